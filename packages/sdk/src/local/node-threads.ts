/**
 * Node worker threads running the job runtime's script (`@tabgrid/job-runtime`), as a tab's
 * Web Workers do: the same Setup, Run, Teardown and `tabgrid` global. Inside each worker the
 * script runs in a fresh V8 context holding only Web Worker-like globals (timers, `performance`,
 * `MessageChannel`, `TextEncoder`, `crypto`, …), so job code sees what it sees in a tab, not
 * Node's `require` or `process`. That is for parity, NOT isolation: a local run executes the
 * caller's own code with the caller's rights (README, "Local runs").
 *
 * `node:worker_threads` is reached through `process.getBuiltinModule`, not an import, so that
 * browser bundles of the SDK (the dashboard's) never see a Node built-in.
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';

/**
 * The worker's own code (CommonJS, `eval: true`): builds the context, runs the thread script in
 * it and hands it the port, as the page's `postMessage({ type: 'port' }, [port])` does. Job
 * code's stray errors are printed and the thread goes on, as a browser worker's would.
 */
const WORKER_SHIM = `
const { workerData } = require('node:worker_threads');
const vm = require('node:vm');
process.on('uncaughtException', (error) => console.warn('[tabgrid local] job code threw outside a task:', error && error.message));
process.on('unhandledRejection', () => {});
const globals = {
  onmessage: null,
  performance, MessageChannel, MessagePort, atob, btoa, structuredClone, queueMicrotask,
  setTimeout, clearTimeout, setInterval, clearInterval,
  TextEncoder, TextDecoder, URL, URLSearchParams, crypto: globalThis.crypto,
  navigator: { hardwareConcurrency: 1, userAgent: 'tabgrid-local' },
};
const context = vm.createContext(globals);
vm.runInContext('globalThis.self = globalThis;', context);
vm.runInContext(workerData.source, context, { filename: 'tabgrid-thread.js' });
globals.onmessage({ ports: [workerData.port] });
`;

/** What the host needs of a Node `Worker`. */
interface NodeWorker {
  terminate(): Promise<number>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

type WorkerConstructor = new (
  code: string,
  options: { eval: true; workerData: unknown; transferList: unknown[]; name?: string },
) => NodeWorker;

function workerConstructor(): WorkerConstructor {
  const builtin =
    typeof process === 'undefined' || typeof process.getBuiltinModule !== 'function'
      ? undefined
      : (process.getBuiltinModule('node:worker_threads') as { Worker?: WorkerConstructor });
  if (!builtin?.Worker) {
    throw new TabgridError(
      ErrorCode.INVALID_REQUEST,
      'Local runs ({ local: { threads } }) need Node 20.16 or later (worker threads); in a browser, connect to a server instead.',
    );
  }
  return builtin.Worker;
}

/** A started thread: the page's end of its channel, and how to end it. */
export interface StartedThread {
  id: number;
  port: MessagePort;
  terminate(): void;
}

/**
 * Starts job threads: each a Node worker running the thread script, talked to over a
 * MessageChannel whose other end it was handed.
 */
export class NodeThreads {
  private readonly Worker = workerConstructor();
  private readonly workers = new Map<number, NodeWorker>();
  private nextId = 1;

  /** `source`: the job runtime's script (runtime-source.ts). */
  constructor(private readonly source: string) {}

  spawn(): StartedThread {
    const id = this.nextId++;
    const channel = new MessageChannel();
    const worker = new this.Worker(WORKER_SHIM, {
      eval: true,
      name: `tabgrid-local-${id}`,
      workerData: { source: this.source, port: channel.port2 },
      transferList: [channel.port2],
    });
    // A worker that cannot start (out of memory, say) is caught by the thread's watchdog.
    worker.on('error', (error) => console.warn(`[tabgrid local] thread ${id}: ${error.message}`));
    this.workers.set(id, worker);
    return { id, port: channel.port1, terminate: () => this.terminate(id, channel.port1) };
  }

  /** Ends every thread. */
  dispose(): void {
    for (const worker of this.workers.values()) void worker.terminate();
    this.workers.clear();
  }

  private terminate(id: number, port: MessagePort): void {
    port.onmessage = null;
    port.close();
    void this.workers.get(id)?.terminate();
    this.workers.delete(id);
  }
}

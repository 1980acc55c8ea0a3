import type { ThreadHost } from './thread-host';
import { SANDBOX_WORKER_SOURCE } from '@tabgrid/job-runtime/thread-source';

/**
 * The page's {@link ThreadHost}: starts job threads as Web Workers from a `data:` URL. Such a
 * worker runs with an opaque origin (none of this origin's cookies, storage or caches) and
 * inherits the page's Content-Security-Policy, which the server sets so that job code reaches
 * no other host and gets nothing from the server itself (`workerPageCsp` in
 * @tabgrid/protocol/worker, and the server's job-code-policy.ts).
 *
 * Threads run in this tab's process, so a page ↔ thread message is a hop between threads.
 * The sandboxed iframe this replaces got a process of its own from Chromium, and every message
 * across cost ~0.2 ms of CPU on each side (bench/README.md).
 */
export class WebWorkerThreadHost implements ThreadHost {
  private readonly url = `data:text/javascript,${encodeURIComponent(SANDBOX_WORKER_SOURCE)}`;
  private readonly workers = new Map<number, Worker>();
  private nextWorkerId = 1;

  spawn(): { workerId: number; port: MessagePort } {
    const workerId = this.nextWorkerId++;
    const channel = new MessageChannel();
    const worker = new Worker(this.url, { name: `tabgrid-thread-${workerId}` });
    // Uncaught errors of job code land here; the thread keeps running, and a thread that never
    // starts is caught by the pool's watchdog. Messages job code posts to its global are not
    // listened to: page and thread speak only over the private channel.
    worker.onerror = (event: ErrorEvent) => {
      console.warn(`[tabgrid] sandbox thread ${workerId}: ${event.message || 'worker error'}`);
    };
    worker.postMessage({ type: 'port' }, [channel.port2]);
    this.workers.set(workerId, worker);
    return { workerId, port: channel.port1 };
  }

  terminate(workerId: number): void {
    this.workers.get(workerId)?.terminate();
    this.workers.delete(workerId);
  }

  dispose(): void {
    for (const worker of this.workers.values()) worker.terminate();
    this.workers.clear();
  }
}

/**
 * A worker that speaks the real worker protocol over a real WebSocket, from Node, running
 * trusted programs with `new Function`. Integration tests use it where a browser tab would be
 * too slow to start; real tabs are tested in e2e/.
 */
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import type { TaskReport } from '@tabgrid/protocol/task-reports';
import { decodeServerToWorker, type WorkerOutcome } from '@tabgrid/protocol/worker';

type Run = (input: unknown, args: unknown) => unknown;

export interface NodeWorkerOptions {
  credit?: number;
  /** Called before each task; return false to swallow the task (simulates a hung worker). */
  beforeTask?: (jobId: string, index: number) => boolean;
  /** Extra headers of the upgrade request (a proxy's `X-Forwarded-For`, say). */
  headers?: Record<string, string>;
}

export class NodeWorker {
  readonly socket: WebSocket;
  readonly done: WorkerOutcome[] = [];
  /** Messages of `job.tell` it was sent, in arrival order (issue 13). */
  readonly messages: { jobId: string; seq: number; data: unknown }[] = [];
  /** The `cancel` frames it was sent (why each job left it), and `limit` frames. */
  readonly cancels: { jobId: string; reason?: string }[] = [];
  readonly limits: { jobId: string; what: string }[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private readonly programs = new Map<string, { run: Run; args: unknown }>();
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(
    url: string,
    private readonly options: NodeWorkerOptions = {},
  ) {
    this.socket = new WebSocket(url, { headers: options.headers });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      this.socket.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve();
      }),
    );
    this.socket.on('message', (data) => this.onFrame((data as Buffer).toString('utf8')));
  }

  hello(): void {
    this.send({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      threads: 1,
      userAgent: 'node-worker',
      credit: this.options.credit ?? 100,
    });
  }

  send(msg: unknown): void {
    this.socket.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  close(): void {
    this.socket.close();
  }

  /** Sends a `report` frame (progress, console lines, events, Setup times) as a page would. */
  report(items: TaskReport[]): void {
    this.send({ type: 'report', items });
  }

  private onFrame(text: string): void {
    const msg = decodeServerToWorker(text);
    switch (msg.type) {
      case 'welcome':
        break;
      case 'job': {
        // Test programs are trusted; real job code only ever runs in the browser sandbox.
        // eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call
        const run = new Function('args', `${msg.program}\n;return Run;`)(msg.args) as Run;
        this.programs.set(msg.jobId, { run, args: msg.args });
        break;
      }
      case 'tasks': {
        const job = this.programs.get(msg.jobId);
        const items: WorkerOutcome[] = [];
        for (const { index, input } of msg.items) {
          if (this.options.beforeTask && !this.options.beforeTask(msg.jobId, index)) continue;
          try {
            items.push({
              jobId: msg.jobId,
              index,
              ms: 0,
              ok: true,
              value: job!.run(input, job!.args) ?? null,
            });
          } catch (err) {
            const e = err as Error;
            items.push({
              jobId: msg.jobId,
              index,
              ms: 0,
              ok: false,
              error: { name: e.name, message: e.message, stack: e.stack ?? '' },
            });
          }
        }
        this.done.push(...items);
        if (items.length > 0) this.send({ type: 'outcomes', credit: items.length, items });
        break;
      }
      case 'cancel':
        this.programs.delete(msg.jobId);
        this.cancels.push(
          msg.reason === undefined
            ? { jobId: msg.jobId }
            : { jobId: msg.jobId, reason: msg.reason },
        );
        break;
      case 'messages':
        for (const { seq, data } of msg.items) this.messages.push({ jobId: msg.jobId, seq, data });
        break;
      case 'limit':
        this.limits.push({ jobId: msg.jobId, what: msg.what });
        break;
    }
  }
}

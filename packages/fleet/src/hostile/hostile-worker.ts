/**
 * A raw connection to `/ws/worker` that sends whatever it is told to, counting every frame, and
 * keeps just enough state to lie convincingly: the jobs and tasks the server gave it, their
 * programs compiled (so it can answer some tasks honestly and the rest with poison).
 */
import WebSocket from 'ws';
import { decodeServerToWorker } from '@tabgrid/protocol/worker';
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import { ProgramCache, type CompiledProgram } from '../program-cache.js';
import type { Tally } from './tally.js';

/** Above this many bytes queued in the socket, a sender waits for the kernel to take them. */
const HIGH_WATER_BYTES = 1 << 20;

export interface HeldTask {
  jobId: string;
  index: number;
  input: unknown;
  /** When it was received (Date.now()). */
  at: number;
}

export interface HostileWorkerOptions {
  url: string;
  family: string;
  tally: Tally;
  /** Bind the client end to this loopback address (127.x.y.z): another "host" to the server. */
  localAddress?: string;
  /** Programs shared by a family's workers. */
  programs?: ProgramCache;
}

export class HostileWorker {
  readonly socket: WebSocket;
  /** Resolves when the socket is open; rejects if it never opens. */
  readonly opened: Promise<void>;
  /** Resolves with the close code and reason, however the connection ends. */
  readonly closed: Promise<{ code: number; reason: string }>;
  workerId: string | undefined;
  /** Tasks the server leased to this connection and not yet answered or released. */
  readonly held = new Map<string, HeldTask>();
  /** Every job id this connection has seen, with the highest index seen. */
  readonly jobsSeen = new Map<string, number>();
  private readonly programs: ProgramCache;
  private readonly compiled = new Map<string, CompiledProgram>();
  private tasksListeners: ((tasks: HeldTask[]) => void)[] = [];
  private welcomeWaiters: (() => void)[] = [];
  /** Settles once the last frame sent was written (or failed). */
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(private readonly options: HostileWorkerOptions) {
    this.programs = options.programs ?? new ProgramCache();
    this.socket = new WebSocket(options.url, {
      perMessageDeflate: false,
      handshakeTimeout: 15_000,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.socket.once('close', (code, reason) => {
        for (const [jobId, compiled] of this.compiled) this.programs.release(jobId, compiled);
        this.compiled.clear();
        this.options.tally.note(this.options.family, `close ${code}`);
        resolve({ code, reason: reason.toString() });
      });
    });
    // Errors always end in `close`; an unhandled one would crash the attacker, not the server.
    this.socket.on('error', () => undefined);
    this.socket.on('message', (data: Buffer, isBinary) =>
      this.onFrame(isBinary ? data : data.toString('utf8')),
    );
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends one frame if the socket is open (counted), waiting first if too much is queued. */
  async send(frame: string | Uint8Array): Promise<boolean> {
    if (this.socket.bufferedAmount > HIGH_WATER_BYTES) await this.drain();
    if (!this.isOpen) return false;
    this.options.tally.count(this.options.family, 'worker');
    this.lastWrite = new Promise((resolve) => this.socket.send(frame, () => resolve()));
    return true;
  }

  /** Sends frames back to back (pipelined, no waiting for answers); returns how many went. */
  async sendAll(frames: Iterable<string | Uint8Array>): Promise<number> {
    let sent = 0;
    for (const frame of frames) {
      if (!(await this.send(frame))) break;
      sent++;
    }
    return sent;
  }

  /** Resolves once everything queued reached the kernel (or the socket closed). */
  drain(): Promise<void> {
    return this.lastWrite;
  }

  hello(threads = 1, credit = 0, extra: Record<string, unknown> = {}): Promise<boolean> {
    return this.send(
      JSON.stringify({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        threads,
        userAgent: `tabgrid-fuzz (${this.options.family})`,
        credit,
        ...extra,
      }),
    );
  }

  /** Resolves on `welcome`, or after `ms` (false). */
  welcomed(ms = 10_000): Promise<boolean> {
    if (this.workerId) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.welcomeWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      void this.closed.then(() => resolve(false));
    });
  }

  /** Called with every batch of tasks the server leases to this connection. */
  onTasks(listener: (tasks: HeldTask[]) => void): void {
    this.tasksListeners.push(listener);
  }

  /** The right value of a held task, computed by the job's own program (throws if it throws). */
  honestValue(task: HeldTask): unknown {
    const program = this.compiled.get(task.jobId);
    if (!program?.run) throw new Error(`no program for job ${task.jobId}`);
    return program.run(task.input, program.args);
  }

  /** An outcome item's JSON text answering `task` honestly (value and all), with `ms`. */
  honestItem(task: HeldTask, ms: number | string = 1): string {
    const value = JSON.stringify(this.honestValue(task) ?? null);
    return `{"jobId":${JSON.stringify(task.jobId)},"index":${task.index},"ms":${ms},"ok":true,"value":${value}}`;
  }

  /** Forgets held tasks (after answering or releasing them). */
  forget(tasks: readonly HeldTask[]): void {
    for (const t of tasks) this.held.delete(`${t.jobId}#${t.index}`);
  }

  close(code = 1000): Promise<{ code: number; reason: string }> {
    if (
      this.socket.readyState === WebSocket.CONNECTING ||
      this.socket.readyState === WebSocket.OPEN
    ) {
      try {
        this.socket.close(code);
      } catch {
        this.socket.terminate();
      }
      const cut = setTimeout(() => this.socket.terminate(), 2_000);
      void this.closed.then(() => clearTimeout(cut));
    }
    return this.closed;
  }

  terminate(): Promise<{ code: number; reason: string }> {
    this.socket.terminate();
    return this.closed;
  }

  private onFrame(data: unknown): void {
    let msg;
    try {
      msg = decodeServerToWorker(data);
    } catch {
      this.options.tally.note(this.options.family, 'invalid server frame');
      return;
    }
    switch (msg.type) {
      case 'welcome':
        this.workerId = msg.workerId;
        for (const w of this.welcomeWaiters) w();
        this.welcomeWaiters = [];
        return;
      case 'job': {
        if (!this.compiled.has(msg.jobId)) {
          this.compiled.set(msg.jobId, this.programs.acquire(msg.jobId, msg.program, msg.args));
        }
        if (!this.jobsSeen.has(msg.jobId)) this.jobsSeen.set(msg.jobId, 0);
        return;
      }
      case 'tasks': {
        const at = Date.now();
        const tasks = msg.items.map((item) => ({
          jobId: msg.jobId,
          index: item.index,
          input: item.input,
          at,
        }));
        for (const t of tasks) {
          this.held.set(`${t.jobId}#${t.index}`, t);
          this.jobsSeen.set(t.jobId, Math.max(this.jobsSeen.get(t.jobId) ?? 0, t.index));
        }
        for (const listener of this.tasksListeners) listener(tasks);
        return;
      }
      case 'cancel':
        for (const [key, t] of this.held) if (t.jobId === msg.jobId) this.held.delete(key);
        return;
      case 'messages':
      case 'limit':
        // The task model's frames: an attacker has no use for them.
        return;
    }
  }
}

/** Opens a worker socket; resolves once open, or undefined if it could not connect. */
export async function openHostile(
  options: HostileWorkerOptions,
): Promise<HostileWorker | undefined> {
  const worker = new HostileWorker(options);
  try {
    await worker.opened;
    return worker;
  } catch {
    options.tally.note(options.family, 'could not connect');
    return undefined;
  }
}

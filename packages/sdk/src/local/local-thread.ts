/**
 * One local job thread as the local runner drives it: the page's half of the thread protocol
 * (`@tabgrid/job-runtime/sandbox-protocol`), with a watchdog standing for the page's: a task
 * (or Setup) past its time limit gets the thread terminated, and the runner is told which
 * tasks it held. One thread holds one job for its whole life (one realm per job), as in tabs.
 */
import { isThreadToPage, type PageToThread } from '@tabgrid/job-runtime/sandbox-protocol';
import type { StartedThread } from './node-threads.js';

/** A worker thread's start (a fresh V8 isolate) is allowed this long on top of any limit. */
const STARTUP_GRACE_MS = 5_000;
/** A flush posted by the thread may still be on its way when the limit passes. */
const DELIVERY_GRACE_MS = 60;

/** What the thread needs of its job. */
export interface ThreadJob {
  jobId: string;
  program: string;
  /** The job's args, parsed from their text form (typed arrays tagged, as the page sends them). */
  args: unknown;
  timeoutMs: number;
  setupTimeoutMs: number;
}

/** A task as a thread gets it: the input's JSON text (text form) is spliced in unparsed. */
export interface ThreadInput {
  index: number;
  inputJson: string;
}

export interface ThreadListener {
  /** Report text (TaskReports without jobId, joined by commas). */
  report(tel: string): void;
  /** Setup finished on this thread (its report went to `report` first). */
  setup(ok: boolean, ms: number): void;
  /** Outcome texts of `tasks` of the running chunk, in chunk order (WorkerOutcome JSON, joined). */
  outcomes(outcomes: string, tasks: ThreadInput[]): void;
  /** The chunk's last outcome arrived; the thread is idle. */
  idle(): void;
  /**
   * The watchdog fired (`setup`: Setup outran setupTimeoutMs; `run`: a task outran timeoutMs;
   * `start`: the thread never started). The thread is dead; `unreported` were not answered
   * (the first of them was running).
   */
  timedOut(phase: 'start' | 'setup' | 'run', unreported: ThreadInput[]): void;
  /** The thread broke the thread protocol; it is dead, `unreported` were not answered. */
  broken(reason: string, unreported: ThreadInput[]): void;
}

export class LocalThread<J extends ThreadJob = ThreadJob> {
  /** Set by {@link load}; never changes. */
  job: J | undefined;
  private ready = false;
  private setupPending = false;
  private hasTeardown = false;
  private loaded = false;
  private chunk: { id: number; tasks: ThreadInput[]; reported: number } | undefined;
  private nextChunkId = 1;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private dead = false;
  private onTornDown: (() => void) | undefined;

  constructor(
    private readonly thread: StartedThread,
    private readonly listener: ThreadListener,
  ) {
    thread.port.onmessage = (event: MessageEvent) => this.receive(event.data);
  }

  get busy(): boolean {
    return this.chunk !== undefined;
  }

  get alive(): boolean {
    return !this.dead;
  }

  load(job: J, messages: readonly { seq: number; json: string }[]): void {
    this.job = job;
    this.send({ type: 'load', jobId: job.jobId, program: job.program, args: job.args });
    for (const { seq, json } of messages) this.send({ type: 'message', seq, json });
  }

  /** Runs `tasks` in order, each reported as it finishes (`flushEach`: exact timeouts). */
  run(tasks: ThreadInput[]): void {
    const id = this.nextChunkId++;
    this.chunk = { id, tasks, reported: 0 };
    const json = `[${tasks.map((t) => `{"index":${t.index},"input":${t.inputJson}}`).join(',')}]`;
    this.send({ type: 'run', chunkId: id, tasks: json, flushEach: true });
    this.arm();
  }

  tell(seq: number, json: string): void {
    this.send({ type: 'message', seq, json });
  }

  /** Runs the job's Teardown (if it has one) within `deadlineMs`, then ends the thread. */
  leave(deadlineMs: number): Promise<'done' | 'late'> {
    this.disarm();
    // A running chunk stops after its current task; its later results are void.
    if (this.chunk) this.send({ type: 'stop', chunkId: this.chunk.id });
    this.chunk = undefined;
    if (this.dead || !this.loaded || !this.hasTeardown) {
      this.kill();
      return Promise.resolve('done');
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.kill();
        resolve('late');
      }, deadlineMs);
      this.onTornDown = () => {
        clearTimeout(timer);
        this.kill();
        resolve('done');
      };
      this.send({ type: 'teardown' });
    });
  }

  kill(): void {
    if (this.dead) return;
    this.dead = true;
    this.disarm();
    this.thread.terminate();
  }

  private send(message: PageToThread): void {
    if (!this.dead) this.thread.port.postMessage(message);
  }

  /** Restarts the watchdog for what the thread is doing now (nothing: no watchdog). */
  private arm(): void {
    this.disarm();
    const job = this.job;
    if (!this.chunk || !job) return;
    const limit = this.setupPending ? job.setupTimeoutMs : job.timeoutMs;
    const budget = limit + DELIVERY_GRACE_MS + (this.ready ? 0 : STARTUP_GRACE_MS);
    this.watchdog = setTimeout(() => this.fire(), budget);
  }

  private disarm(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private unreported(): ThreadInput[] {
    const chunk = this.chunk;
    return chunk ? chunk.tasks.slice(chunk.reported) : [];
  }

  private fire(): void {
    const phase = !this.ready ? 'start' : this.setupPending ? 'setup' : 'run';
    const unreported = this.unreported();
    this.chunk = undefined;
    this.kill();
    this.listener.timedOut(phase, unreported);
  }

  private fail(reason: string): void {
    const unreported = this.unreported();
    this.chunk = undefined;
    this.kill();
    this.listener.broken(reason, unreported);
  }

  private receive(data: unknown): void {
    if (this.dead) return;
    if (!isThreadToPage(data)) {
      this.fail('a message that is not part of the thread protocol');
      return;
    }
    switch (data.type) {
      case 'ready':
        this.ready = true;
        this.arm();
        return;
      case 'loaded':
        this.loaded = true;
        this.hasTeardown = data.teardown;
        this.setupPending = data.setup;
        this.arm();
        return;
      case 'setup':
        this.setupPending = false;
        if (data.tel !== '') this.listener.report(data.tel);
        this.listener.setup(data.ok, data.ms);
        this.arm();
        return;
      case 'tel':
        if (data.tel !== '') this.listener.report(data.tel);
        return;
      case 'tornDown':
        if (data.tel !== '') this.listener.report(data.tel);
        this.onTornDown?.();
        return;
      case 'results': {
        const chunk = this.chunk;
        if (!chunk || data.chunkId !== chunk.id) return; // a stopped chunk's late flush
        if (data.count > chunk.tasks.length - chunk.reported) {
          this.fail('more outcomes than tasks it was given');
          return;
        }
        const reported = chunk.tasks.slice(chunk.reported, chunk.reported + data.count);
        chunk.reported += data.count;
        // A task's report goes before its outcome, as the page sends them.
        if (data.tel !== '') this.listener.report(data.tel);
        if (data.count > 0) this.listener.outcomes(data.outcomes, reported);
        if (data.done || chunk.reported >= chunk.tasks.length) {
          const rest = chunk.tasks.slice(chunk.reported);
          this.chunk = undefined;
          this.disarm();
          if (rest.length > 0) this.fail('a chunk ended with tasks unreported');
          else this.listener.idle();
        } else this.arm();
        return;
      }
    }
  }
}

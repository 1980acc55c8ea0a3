import { fromSocketForm } from '@tabgrid/protocol/bytes';
import type { ServerToWorker, WorkerFailure } from '@tabgrid/protocol/worker';
import type { Behavior } from './behavior.js';
import { releaseFrame } from './frames.js';
import { corrupt, lieSeed } from './lies.js';
import {
  describe,
  failureItem,
  isThenable,
  plain,
  successItem,
  timeoutFailure,
  unsendableFailure,
} from './outcome-items.js';
import { OutcomeOutbox } from './outcome-outbox.js';
import type { CompiledProgram, ProgramCache } from './program-cache.js';
import type { Rng } from './random.js';
import type { SimWorkerStats } from './stats.js';

type TasksMessage = Extract<ServerToWorker, { type: 'tasks' }>;
type JobMessage = Extract<ServerToWorker, { type: 'job' }>;

/** A task by its id, as the server knows it. */
export interface TaskRef {
  jobId: string;
  index: number;
}

interface LocalJob {
  readonly jobId: string;
  readonly program: CompiledProgram;
  readonly timeoutMs: number;
  cancelled: boolean;
}

interface Pending {
  readonly job: LocalJob;
  readonly index: number;
  readonly input: unknown;
}

/** What an executor needs from the worker that owns it. */
export interface ExecutorHost {
  /** Read on every use: behavior patches apply at once. */
  behavior(): Readonly<Behavior>;
  readonly rng: Rng;
  readonly stats: SimWorkerStats;
  readonly threads: number;
  /** Liars with equal keys tell equal lies. */
  readonly lieKey: string;
  send(frame: string): void;
}

/**
 * Runs one connection's tasks: queues them, runs up to `threads` at a time (synchronous `Run`s
 * with no simulated delay run back to back, with no timer at all), applies the worker's
 * behavior, and sends outcomes back batched, one frame per burst, each carrying the credit it
 * frees. Credit is conserved: every slot granted to the server is held by a task here or
 * returned (outcome, cancel). A closed executor ignores everything still in flight.
 */
export class TaskExecutor {
  private readonly jobs = new Map<string, LocalJob>();
  private queue: (Pending | undefined)[] = [];
  private head = 0;
  private readonly running = new Set<Pending>();
  /** Tasks a hanging worker took (or a dying one was holding): never answered. */
  private readonly swallowed: Pending[] = [];
  private readonly outbox: OutcomeOutbox;
  private closed = false;

  constructor(
    private readonly host: ExecutorHost,
    private readonly programs: ProgramCache,
  ) {
    this.outbox = new OutcomeOutbox(
      (frame) => host.send(frame),
      () => this.closed || host.behavior().freeze === true,
    );
  }

  /** Tasks held now: queued, running, or swallowed. */
  get held(): number {
    return this.queue.length - this.head + this.running.size + this.swallowed.length;
  }

  heldTasks(): TaskRef[] {
    const refs: TaskRef[] = [];
    const add = (task: Pending | undefined): void => {
      if (task) refs.push({ jobId: task.job.jobId, index: task.index });
    };
    for (let i = this.head; i < this.queue.length; i++) add(this.queue[i]);
    this.running.forEach(add);
    this.swallowed.forEach(add);
    return refs;
  }

  onJob(message: JobMessage): void {
    if (this.jobs.has(message.jobId)) return;
    // `args` may hold typed arrays (in the text form), like task inputs.
    const args = fromSocketForm(message.args);
    const program = this.programs.acquire(message.jobId, message.program, args);
    this.jobs.set(message.jobId, {
      jobId: message.jobId,
      program,
      timeoutMs: message.timeoutMs,
      cancelled: false,
    });
  }

  onTasks(message: TasksMessage): void {
    const job = this.jobs.get(message.jobId);
    if (!job) {
      // The server always sends a job's program first; hand back what we cannot run.
      this.host.send(
        releaseFrame(message.items.map(({ index }) => ({ jobId: message.jobId, index }))),
      );
      this.host.stats.released += message.items.length;
      this.outbox.returnSlots(message.items.length);
      this.flush();
      return;
    }
    if (this.host.behavior().hang) {
      this.swallow(message);
      this.host.stats.hung += message.items.length;
      return;
    }
    for (const { index, input } of message.items) this.queue.push({ job, index, input });
    this.pump();
    this.flush();
  }

  /** Holds the tasks without ever answering (a hung worker, or one about to die). */
  swallow(message: TasksMessage): void {
    const job = this.jobs.get(message.jobId);
    if (!job) return;
    for (const { index, input } of message.items) this.swallowed.push({ job, index, input });
  }

  /** The job was cancelled or finished: drop its queued tasks and give their slots back. */
  onCancel(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    job.cancelled = true;
    this.jobs.delete(jobId);
    this.programs.release(jobId, job.program);
    const kept: Pending[] = [];
    let dropped = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const task = this.queue[i];
      if (!task) continue;
      if (task.job === job) dropped++;
      else kept.push(task);
    }
    this.queue = kept;
    this.head = 0;
    // Running tasks of the job return their slot when they end (see `settle`).
    this.host.stats.cancelled += dropped;
    this.outbox.returnSlots(dropped);
    this.flush();
  }

  /**
   * Sends the outcomes ready now, then a `release` of every task held, queued, running or
   * stuck (as a tab does on `pagehide`). The connection is to be closed right after.
   */
  handBack(): number {
    this.flush();
    const refs: TaskRef[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const task = this.queue[i];
      if (task) refs.push({ jobId: task.job.jobId, index: task.index });
    }
    for (const task of this.running) refs.push({ jobId: task.job.jobId, index: task.index });
    for (const task of this.swallowed) refs.push({ jobId: task.job.jobId, index: task.index });
    if (refs.length > 0) this.host.send(releaseFrame(refs));
    this.host.stats.released += refs.length;
    this.queue = [];
    this.head = 0;
    this.running.clear();
    this.swallowed.length = 0;
    return refs.length;
  }

  /** The connection is gone: everything here is void (the server requeues what we held). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.jobs.values()) this.programs.release(job.jobId, job.program);
    this.jobs.clear();
    this.queue = [];
    this.head = 0;
    this.running.clear();
    this.swallowed.length = 0;
    this.outbox.clear();
  }

  // ---- running --------------------------------------------------------------------------

  /** A frozen worker wakes up: start what waits, send what finished. */
  resume(): void {
    this.pump();
    this.flush();
  }

  private pump(): void {
    if (this.host.behavior().freeze) return;
    const threads = this.host.threads;
    while (!this.closed && this.head < this.queue.length && this.running.size < threads) {
      const task = this.queue[this.head];
      this.queue[this.head++] = undefined;
      if (task) this.start(task);
    }
    if (this.head >= this.queue.length && this.head > 0) {
      this.queue.length = 0;
      this.head = 0;
    }
  }

  private start(task: Pending): void {
    const { delayMs, throwRate } = this.host.behavior();
    if (throwRate !== undefined && this.host.rng.chance(throwRate)) {
      this.fail(task, {
        name: 'SimulatedError',
        message: `tabgrid-fleet: simulated failure of task ${task.index} (throwRate ${throwRate})`,
        stack: '',
      });
      return;
    }
    const delay = delayMs === undefined ? 0 : this.host.rng.pick(delayMs);
    if (delay <= 0) {
      this.execute(task, 0);
      return;
    }
    this.running.add(task);
    const { timeoutMs } = task.job;
    if (delay >= timeoutMs) {
      // A tab terminates the thread at timeoutMs and says so.
      setTimeout(() => this.end(task, () => this.timedOut(task)), timeoutMs);
      return;
    }
    setTimeout(() => this.end(task, () => this.execute(task, delay)), delay);
  }

  /** A running task's time is up: finish it (unless the connection is gone), then refill. */
  private end(task: Pending, finish: () => void): void {
    if (this.closed || !this.running.delete(task)) return;
    finish();
    this.pump();
    this.outbox.flushSoon();
  }

  private execute(task: Pending, delay: number): void {
    const { program, timeoutMs } = task.job;
    const started = performance.now();
    let result: unknown;
    try {
      const run = program.run;
      if (!run) throw program.loadError;
      // A plain call, as on the page: the frame reads `at Run (job.js:…)`, not `Object.Run`.
      result = run(fromSocketForm(task.input), program.args);
    } catch (error) {
      this.fail(task, describe(error), delay + performance.now() - started);
      return;
    }
    if (!isThenable(result)) {
      const ms = delay + performance.now() - started;
      if (ms >= timeoutMs) this.timedOut(task);
      else this.succeed(task, result, ms);
      return;
    }
    // Async Run: it holds a thread until it settles or its time is up.
    this.running.add(task);
    const timer = setTimeout(
      () => this.end(task, () => this.timedOut(task)),
      Math.max(0, timeoutMs - delay),
    );
    const settled = (finish: (ms: number) => void): void => {
      clearTimeout(timer);
      this.end(task, () => finish(delay + performance.now() - started));
    };
    Promise.resolve(result).then(
      (value) => settled((ms) => this.succeed(task, value, ms)),
      (error: unknown) => settled((ms) => this.fail(task, describe(error), ms)),
    );
  }

  // ---- outcomes -------------------------------------------------------------------------

  private succeed(task: Pending, result: unknown, ms: number): void {
    const { job, index } = task;
    if (job.cancelled) {
      this.outbox.returnSlots(1);
      return;
    }
    let text: string;
    try {
      let value = plain(result);
      const lies = this.host.behavior().wrongResults;
      if (lies) {
        const options = lies === true ? {} : lies;
        const seed = lieSeed(
          job.jobId,
          index,
          options.collude ?? this.host.lieKey,
          options.rate ?? 1,
        );
        if (seed !== undefined) {
          value = corrupt(JSON.parse(JSON.stringify(value) ?? 'null'), seed);
          this.host.stats.lies++;
        }
      }
      text = successItem(job.jobId, index, ms, value);
    } catch (error) {
      this.fail(task, unsendableFailure(error));
      return;
    }
    this.host.stats.tasksDone++;
    this.outbox.push(text);
  }

  private fail(task: Pending, error: WorkerFailure, ms = 0): void {
    if (task.job.cancelled) {
      this.outbox.returnSlots(1);
      return;
    }
    this.host.stats.tasksFailed++;
    this.outbox.push(failureItem(task.job.jobId, task.index, ms, error));
  }

  private timedOut(task: Pending): void {
    this.fail(task, timeoutFailure(task.job.timeoutMs), task.job.timeoutMs);
  }

  /** Sends what is waiting: outcomes (carrying the freed credit), or a bare `credit` frame. */
  flush(): void {
    this.outbox.flush();
  }
}

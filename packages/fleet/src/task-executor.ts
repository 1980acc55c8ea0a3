import { fromSocketForm } from '@tabgrid/protocol/bytes';
import type { ServerToWorker, WorkerFailure } from '@tabgrid/protocol/worker';
import { ConnectionTaskModel } from './connection-task-model.js';
import { releaseFrame } from './frames.js';
import type { ExecutorHost, LocalJob, Pending, TaskRef } from './executor-types.js';
import { lieAbout } from './lies.js';
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
import type { ProgramCache } from './program-cache.js';
import { runIn } from './task-api.js';

export type { ExecutorHost, TaskRef };

type TasksMessage = Extract<ServerToWorker, { type: 'tasks' }>;
type JobMessage = Extract<ServerToWorker, { type: 'job' }>;
type TaskModelMessage = Extract<ServerToWorker, { type: 'messages' | 'limit' }>;

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
  /** Reports, simulated threads, busy time: see ConnectionTaskModel. */
  readonly model: ConnectionTaskModel;
  private closed = false;

  constructor(
    private readonly host: ExecutorHost,
    private readonly programs: ProgramCache,
  ) {
    const held = () => this.closed || host.behavior().freeze === true;
    const send = (frame: string) => host.send(frame);
    this.model = new ConnectionTaskModel(host.threads, () => host.behavior(), send, held);
    this.outbox = new OutcomeOutbox(send, held, () => this.model.reports.flush());
    this.model.startSampling(host.sampleMs ?? 0, send, held);
  }

  /** Reports (progress, logs, events, Setup times): sent before every outcomes frame. */
  get reports() {
    return this.model.reports;
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
    const life = this.model.lifecycle(message, program);
    this.jobs.set(message.jobId, {
      jobId: message.jobId,
      program,
      timeoutMs: message.timeoutMs,
      progressTimeoutMs: message.progressTimeoutMs,
      life,
      cancelled: false,
    });
  }

  /** `job.tell` messages for a job's threads, or its series are full (`collect` throws). */
  onTaskModel(message: TaskModelMessage): void {
    const life = this.jobs.get(message.jobId)?.life;
    if (!life) return;
    if (message.type === 'limit') {
      life.channel.seriesLimit = ConnectionTaskModel.seriesLimit(message.maxBytes);
      return;
    }
    life.deliver(message.items.map(({ seq, data }) => ({ seq, data: fromSocketForm(data) })));
  }

  onTasks(message: TasksMessage): void {
    const job = this.jobs.get(message.jobId);
    const only = this.host.behavior().onlyJobs;
    if (!job || (only && !only.includes(message.jobId))) {
      // The server always sends a job's program first; hand back what we cannot (or will not) run.
      this.host.send(
        releaseFrame(message.items.map(({ index }) => ({ jobId: message.jobId, index }))),
      );
      this.host.stats.released += message.items.length;
      this.outbox.returnSlots(message.items.length);
      this.flush();
      return;
    }
    const { hang, hangJobs } = this.host.behavior();
    if (hang || hangJobs?.includes(message.jobId)) {
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
    // Teardown on every thread that ran the job; its lines go out as soon as it is through.
    job.life?.teardown().then(
      () => this.reports.flush(),
      () => undefined,
    );
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
    const refs = this.heldTasks();
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
    for (const job of this.jobs.values()) {
      this.programs.release(job.jobId, job.program);
      // Best effort, as on `pagehide`: nothing it says can be sent any more.
      job.life?.teardown().catch(() => undefined);
    }
    this.jobs.clear();
    this.model.close();
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
    const { job } = task;
    if (job.progressTimeoutMs !== undefined) {
      this.reports.push({ jobId: job.jobId, index: task.index, started: true });
    }
    if (!job.life) {
      this.executeNow(task, delay);
      return;
    }
    const slot = (task.slot = this.model.takeSlot());
    const ready = job.life.ready(slot);
    const go = (failure: WorkerFailure | undefined): void => {
      if (failure) return this.fail(task, failure);
      task.tel = job.life!.taskTel(slot, task.index);
      this.executeNow(task, delay);
    };
    if (!isThenable(ready)) return go(ready);
    // Setup holds the thread; the task runs (or fails with Setup's error) once it is through.
    this.running.add(task);
    void ready.then((failure) => {
      if (this.closed || !this.running.delete(task)) return;
      go(failure);
      this.pump();
      this.outbox.flushSoon();
    });
  }

  private executeNow(task: Pending, delay: number): void {
    const { program, timeoutMs } = task.job;
    const started = performance.now();
    let result: unknown;
    try {
      const run = program.run;
      if (!run) throw program.loadError;
      const input = fromSocketForm(task.input);
      const tel = task.tel;
      // A plain call, as on the page: the frame reads `at Run (job.js:…)`, not `Object.Run`.
      result = tel ? runIn(tel, () => run(input, program.args)) : run(input, program.args);
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

  /** The task is through: its thread is free, its context reports, its series are returned. */
  private done(task: Pending, ms: number): string | undefined {
    this.model.through(task.slot, task.job.jobId, ms);
    task.slot = undefined;
    const tel = task.tel;
    task.tel = undefined;
    return tel?.finish();
  }

  private succeed(task: Pending, result: unknown, ms: number): void {
    const { job, index } = task;
    const series = this.done(task, ms);
    if (job.cancelled) {
      this.outbox.returnSlots(1);
      return;
    }
    let text: string;
    try {
      const value = lieAbout(plain(result), job.jobId, index, this.host);
      text = successItem(job.jobId, index, ms, value, series);
    } catch (error) {
      this.fail(task, unsendableFailure(error));
      return;
    }
    this.host.stats.tasksDone++;
    this.outbox.push(text);
  }

  private fail(task: Pending, error: WorkerFailure, ms = 0): void {
    const series = this.done(task, ms);
    if (task.job.cancelled) {
      this.outbox.returnSlots(1);
      return;
    }
    this.host.stats.tasksFailed++;
    this.outbox.push(failureItem(task.job.jobId, task.index, ms, error, series));
  }

  private timedOut(task: Pending): void {
    this.fail(task, timeoutFailure(task.job.timeoutMs), task.job.timeoutMs);
  }

  /** Sends what is waiting: outcomes (carrying the freed credit), or a bare `credit` frame. */
  flush(): void {
    this.outbox.flush();
  }
}

/**
 * One pool call's job, from creation to its last outcome: what every pool verb builds on. It
 * creates the job, runs the tasks through `job.run()`'s own iterator (nothing per item beyond
 * it), turns a failed task into a {@link TaskFailedError}, and wires the call's `AbortSignal`
 * and early stops to `job.cancel()`: a pool's job exists for that call only.
 */
import type { CreateJobRequest, Outcome } from '@tabgrid/protocol/jobs';
import type { TaskSource } from '../batches.js';
import type { BatchRange } from '../collect.js';
import { JobCancelledError, TaskFailedError } from '../job-errors.js';
import type { Job, TaskOutcome } from '../job.js';

/** What a pool sends to create each call's job. */
export type PoolJobSpec = Omit<CreateJobRequest, 'program'> & { program: string };

/** Creates jobs (a `Tabgrid` client is one). */
export interface JobCreator {
  createJob<T = unknown>(spec: PoolJobSpec): Promise<Job<T>>;
}

/** Options every pool call takes. */
export interface PoolCallOptions {
  /** Aborting it cancels the call's job; the call rejects with a `JobCancelledError` (`aborted`). */
  signal?: AbortSignal;
}

/** A successful outcome. */
/** What a {@link PoolRun} tells its verb besides outcomes. */
export interface PoolRunOptions<T> extends PoolCallOptions {
  /** Where each acknowledged batch landed (input positions → job indexes). */
  onRange?: (range: BatchRange) => void;
  /** The job, once created. */
  onJob?: (job: Job<T>) => void;
  /** The call is over (done, failed, aborted or stopped early). */
  onFinish?: () => void;
}

export type OkOutcome<T> = Extract<TaskOutcome<T>, { ok: true }>;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
const EMPTY: AsyncIterator<never, undefined> = { next: () => Promise.resolve(DONE) };

export class PoolRun<T> {
  job: Job<T> | undefined;
  private inner: AsyncIterator<TaskOutcome<T>, undefined> | undefined;
  private opening: Promise<AsyncIterator<TaskOutcome<T>, undefined>> | undefined;
  private stopped: Error | undefined;
  private finished = false;
  private readonly onAbort = (): void => this.abort();

  constructor(
    private readonly creator: JobCreator,
    private readonly spec: PoolJobSpec,
    private readonly tasks: TaskSource,
    private readonly options: PoolRunOptions<T> = {},
  ) {}

  /** The next successful outcome; throws at the first failed task, a cancel or an abort. */
  async next(): Promise<IteratorResult<OkOutcome<T>, undefined>> {
    const step = await this.nextSettled();
    if (step.done || step.value.ok) return step as IteratorResult<OkOutcome<T>, undefined>;
    throw this.failed(step.value);
  }

  /**
   * The next outcome, a failed task's included (for `imap`, which throws it only at its place:
   * see {@link failed}); throws at a cancel or an abort.
   */
  async nextSettled(): Promise<IteratorResult<TaskOutcome<T>, undefined>> {
    if (this.finished) {
      if (this.stopped) throw this.stopped;
      return DONE;
    }
    const inner = this.inner ?? (await (this.opening ??= this.open()));
    let step: IteratorResult<TaskOutcome<T>, undefined>;
    try {
      step = await inner.next();
    } catch (error) {
      this.finish();
      throw this.stopped ?? error;
    }
    if (step.done) {
      this.finish();
      // An abort ends the job's stream early (return()): the call must not look complete.
      if (this.stopped) throw this.stopped;
      return DONE;
    }
    // A task cancelled with its job: the job's cancellation is the news, now.
    if (!step.value.ok && step.value.error.type === 'cancelled') throw this.failed(step.value);
    return step;
  }

  /** Throws the abort (or failure) that stopped the call, if one did: buffered values are moot. */
  throwIfStopped(): void {
    if (this.stopped) throw this.stopped;
  }

  /** The consumer stopped early: the rest of the job is not wanted. */
  async return(): Promise<IteratorReturnResult<undefined>> {
    if (!this.finished) {
      this.finish();
      this.cancelJob();
      await this.inner?.return?.();
    }
    return DONE;
  }

  private async open(): Promise<AsyncIterator<TaskOutcome<T>, undefined>> {
    const { signal } = this.options;
    if (signal?.aborted) this.abort();
    if (this.stopped) {
      this.finished = true;
      throw this.stopped;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    try {
      this.job = await this.creator.createJob<T>(this.spec);
    } catch (error) {
      this.finish();
      throw error;
    }
    this.options.onJob?.(this.job);
    // Read through a call: TypeScript would keep the narrowing from before the await.
    const abortedMeanwhile = this.stoppedBy();
    if (abortedMeanwhile) {
      this.finish();
      this.cancelJob();
      throw abortedMeanwhile;
    }
    if (this.finished) {
      // The consumer stopped (return()) while the job was being created: submit nothing.
      this.cancelJob();
      return EMPTY;
    }
    this.inner = this.job.openRun(this.tasks, this.options.onRange);
    return this.inner;
  }

  /** The error that ends the call at this failed outcome; the job is cancelled. */
  failed(outcome: Extract<Outcome, { ok: false }>): Error {
    const jobId = this.job?.id ?? '';
    // A task cancelled with its job: the job's cancellation is the news, not the task.
    const error =
      outcome.error.type === 'cancelled'
        ? new JobCancelledError(jobId, 'cancelled')
        : new TaskFailedError(jobId, outcome.index, outcome.error);
    this.stopped = error;
    this.finish();
    this.cancelJob();
    void this.inner?.return?.();
    return error;
  }

  private abort(): void {
    if (this.finished || this.stopped) return;
    const { signal } = this.options;
    this.stopped = new JobCancelledError(this.job?.id ?? '', 'aborted', undefined, {
      cause: signal?.reason,
    });
    if (!this.job) return; // open() sees `stopped` once the job exists
    this.cancelJob();
    // Ends a pending next() at once, whatever the server does: it then throws `stopped`.
    void this.inner?.return?.();
  }

  private stoppedBy(): Error | undefined {
    return this.stopped;
  }

  private cancelJob(): void {
    // Best effort: the call's error is the news; a cancel that fails (offline) changes nothing.
    this.job?.cancel().catch(() => undefined);
  }

  private finish(): void {
    if (!this.finished) this.options.onFinish?.();
    this.finished = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }
}

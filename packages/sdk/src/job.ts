import { toSocketForm } from '@tabgrid/protocol/bytes';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { JobInfo, Outcome, OutcomeKind, Provenance } from '@tabgrid/protocol/jobs';
import { batchTasks, sendWindowed, type TaskBatch, type TaskSource } from './batches.js';
import { collectInOrder, type BatchRange, type TaskError } from './collect.js';
import type { JobContext } from './job-context.js';
import { JobCancelledError } from './job-errors.js';
import {
  JobFeeds,
  type JobEvent,
  type LogLine,
  type SeriesItem,
  type TaskProgress,
} from './job-feeds.js';
import { OutcomeStream } from './streams.js';
import type { OutcomeOptions, SubmitResult, TaskOutcome, TaskResult } from './outcome-types.js';
import { Subscription } from './subscription.js';

export type { OutcomeOptions, SubmitResult, TaskOutcome, TaskResult } from './outcome-types.js';
export type { JobContext } from './job-context.js';

/**
 * A job on the server. Get one from `tg.createJob()` or `tg.job(id)`. `T` is the type of
 * the values `Run` returns (inferred when the program is a function).
 *
 * @example
 * const job = await tg.createJob({ program: (d: number) => d * 2, name: 'double' });
 * for await (const o of job.run([1, 2, 3])) console.log(o.index, o.ok ? o.value : o.error);
 */
export class Job<T = unknown> {
  /** The last state the server reported for this job (from create/status/close/cancel). */
  info: JobInfo | undefined;
  private readonly feeds: JobFeeds;

  constructor(
    private readonly context: JobContext,
    readonly id: string,
    info?: JobInfo,
  ) {
    this.info = info;
    this.feeds = new JobFeeds(context, id);
  }

  /**
   * Submits `tasks`, closes the job, and yields every settled outcome as it arrives
   * (unordered). It subscribes before submitting, so nothing is missed. If submitting fails,
   * the loop throws that error; breaking out of the loop stops submitting (the job stays
   * open). If the job is cancelled or deleted first, the loop throws a `JobCancelledError`
   * (`TG_ERR_JOB_CANCELLED`) after the outcomes that arrived (each unsettled task's `cancelled`
   * error among them). Nothing happens until you iterate.
   *
   * @example
   * for await (const o of job.run([1, 2, 3])) {
   *   if (o.ok) console.log(`task ${o.index} →`, o.value);
   *   else console.error(`task ${o.index} failed:`, o.error.message);
   * }
   */
  run(tasks: TaskSource, options: OutcomeOptions = {}): OutcomeStream<TaskOutcome<T>> {
    return new OutcomeStream(() => this.openRun(tasks, undefined, options));
  }

  /**
   * What `run()` iterates, for the SDK's own verbs (the pool's): the job's outcome stream, opened
   * lazily, submitting `tasks` and closing the job once subscribed, and telling `onRange` where
   * each acknowledged batch landed (input positions → job indexes).
   *
   * @internal
   */
  openRun(
    tasks: TaskSource,
    onRange?: (range: BatchRange) => void,
    options: OutcomeOptions = {},
  ): AsyncIterator<TaskOutcome<T>, undefined> {
    const abort = new AbortController();
    const subscription: Subscription = this.subscription('all', {
      onOpen: () => {
        this.submitAndClose(tasks, abort.signal, onRange).catch((error: unknown) =>
          subscription.fail(error),
        );
      },
      onReturn: () => abort.abort(),
      provenance: options.provenance === true,
    });
    // Decoded by the protocol already; only `value`'s type (the program's T) is asserted.
    return subscription as AsyncIterator<Outcome, undefined> as AsyncIterator<
      TaskOutcome<T>,
      undefined
    >;
  }

  /**
   * Adds tasks to the job, streamed in batches with backpressure: an iterable is pulled only
   * as fast as the server acknowledges. Resolves once every task is durable. Accepts arrays,
   * (async) generators and other jobs' streams.
   *
   * @example
   * const { count, firstIndex } = await job.submit(function* () {
   *   for (let i = 0; i < 1e6; i += 1) yield i;
   * }());
   */
  async submit(tasks: TaskSource): Promise<SubmitResult> {
    const { count, firstIndex } = await this.send(tasks);
    return { count, firstIndex };
  }

  /**
   * No more tasks: the job's streams end once every task has settled. Closing a job that is
   * already closed (or done) is not an error.
   *
   * @example
   * await job.submit(tasks);
   * await job.close();
   */
  async close(): Promise<JobInfo> {
    try {
      return await this.jobRequest('job:close');
    } catch (error) {
      if (error instanceof TabgridError && error.code === ErrorCode.JOB_NOT_OPEN) {
        const info = await this.status();
        if (info.state === 'closed' || info.state === 'done') return info;
      }
      throw error;
    }
  }

  /**
   * Successful tasks as they settle, unordered, each exactly once; ends when the job is done.
   * Starts from the beginning of the job, whenever you call it. A job cancelled or deleted
   * before it finished makes the loop throw a `JobCancelledError` (`TG_ERR_JOB_CANCELLED`)
   * after the results that arrived.
   *
   * @example
   * for await (const r of job.results()) console.log(r.index, r.value);
   */
  results(options: OutcomeOptions = {}): OutcomeStream<TaskResult<T>> {
    return this.stream('results', options).map((o) => {
      if (!o.ok)
        throw new TabgridError(ErrorCode.PROTOCOL, 'The server sent an error on a results stream.');
      const result = { index: o.index, value: o.value as T, seq: o.seq };
      return o.provenance ? { ...result, provenance: o.provenance } : result;
    });
  }

  /**
   * Failed tasks as they settle, unordered; ends when the job is done. A job cancelled or
   * deleted first yields its unsettled tasks' `cancelled` errors, then throws a
   * `JobCancelledError` (`TG_ERR_JOB_CANCELLED`).
   *
   * @example
   * for await (const e of job.errors()) console.error(e.index, e.type, e.message);
   */
  errors(options: OutcomeOptions = {}): OutcomeStream<TaskError & { provenance?: Provenance }> {
    return this.stream('errors', options).map((o) => {
      if (o.ok)
        throw new TabgridError(ErrorCode.PROTOCOL, 'The server sent a result on an errors stream.');
      const error = { index: o.index, ...o.error, seq: o.seq };
      return o.provenance ? { ...error, provenance: o.provenance } : error;
    });
  }

  /**
   * Running tasks' `tabgrid.progress()` reports, coalesced (the latest per task, a few times a
   * second); `fraction` is absent for an "alive" report. After a reconnect it starts again with
   * the running tasks' current progress. Ends when the job is done (or cancelled/deleted).
   *
   * @example
   * for await (const p of job.progress()) console.log(p.index, p.fraction ?? 'alive');
   */
  progress(): OutcomeStream<TaskProgress> {
    return this.feeds.progress();
  }

  /**
   * Job code's `console` lines from the first, each once (consecutive repeats collapsed into
   * one with `count`); ends a few seconds after the job ends, so Teardown's lines arrive too.
   *
   * @example
   * for await (const l of job.logs()) console.log(`[${l.index}] ${l.level} ×${l.count} ${l.message}`);
   */
  logs(): OutcomeStream<LogLine> {
    return this.feeds.logs();
  }

  /**
   * Job code's `tabgrid.emit(name, data)` events from the first, each once; ends a few
   * seconds after the job ends.
   *
   * @example
   * for await (const ev of job.events()) if (ev.name === 'best') console.log(ev.data);
   */
  events(): OutcomeStream<JobEvent> {
    return this.feeds.events();
  }

  /**
   * The series `label` (`tabgrid.collect(label, value)`): one item per settled task that
   * collected under it, from the first; also long after the job ended. Ends when the job's
   * tasks have all settled.
   *
   * @example
   * for await (const s of job.series('loss')) console.log(s.index, s.values.at(-1));
   */
  series(label: string): OutcomeStream<SeriesItem> {
    return this.feeds.series(label);
  }

  /**
   * The labels the job's settled tasks collected series under, sorted.
   *
   * @example
   * for (const label of await job.seriesLabels()) console.log(label);
   */
  seriesLabels(): Promise<string[]> {
    return this.feeds.seriesLabels();
  }

  /**
   * Sends `data` (JSON, typed arrays welcome, up to 64 KB) to every thread of the job, running
   * now or joining later (`tabgrid.listen()`, `await tabgrid.next()`). Resolves once stored and
   * on its way; resent after a dropped connection without being delivered twice. Rejects with
   * `TG_ERR_JOB_FINISHED` when the job is done or cancelled.
   *
   * @example
   * await job.tell({ stop: true });
   */
  tell(data: unknown): Promise<{ seq: number }> {
    return this.feeds.tell(data);
  }

  /**
   * Submits `tasks`, closes the job, and resolves with every result in input order. Rejects
   * with a `TasksFailedError` (code `TG_ERR_TASKS_FAILED`, naming the failed indexes) if any
   * task failed, and with `TG_ERR_JOB_CANCELLED` if the job is cancelled or deleted first.
   *
   * @example
   * const doubled = await job.map([1, 2, 3]); // [2, 4, 6]
   */
  async map(tasks: TaskSource): Promise<T[]> {
    const subscription = this.subscription('all');
    await subscription.open();
    const abort = new AbortController();
    let ranges: BatchRange[] = [];
    let submitFailure: { error: unknown } | undefined;
    const submitting = this.send(tasks, abort.signal)
      .then(async (sent) => {
        ranges = sent.ranges;
        await this.close();
      })
      .catch((error: unknown) => {
        submitFailure = { error };
        subscription.fail(error);
      });
    const outcomes = new Map<number, Outcome>();
    try {
      for (;;) {
        const step = await subscription.next();
        if (step.done) break;
        outcomes.set(step.value.index, step.value);
      }
    } catch (error) {
      abort.abort();
      await submitting;
      // A cancel explains a refused submission better than the refusal does.
      throw submitFailure && !(error instanceof JobCancelledError) ? submitFailure.error : error;
    }
    await submitting;
    // A cancelled or deleted job made the loop throw a JobCancelledError (TG_ERR_JOB_CANCELLED).
    if (submitFailure) throw submitFailure.error;
    return collectInOrder<T>(ranges, outcomes);
  }

  /**
   * The job's current state and counters.
   *
   * @example
   * const { state, finished, total } = await job.status();
   */
  status(): Promise<JobInfo> {
    return this.jobRequest('job:get');
  }

  /**
   * Cancels the job: unsettled tasks are dropped and its streams end.
   *
   * @example
   * await job.cancel();
   */
  cancel(): Promise<JobInfo> {
    return this.jobRequest('job:cancel');
  }

  /**
   * Dispatches a paused job's tasks again. The server pauses a job whose tasks keep crashing
   * the tabs that run them (`status().paused` says why); fix what you can, then resume or cancel.
   *
   * @example
   * if ((await job.status()).paused) await job.resume();
   */
  resume(): Promise<JobInfo> {
    return this.jobRequest('job:resume');
  }

  /**
   * Deletes the job with its tasks and outcomes.
   *
   * @example
   * await job.delete();
   */
  async delete(): Promise<void> {
    await this.context.connection.request('job:delete', { jobId: this.id }, { retry: true });
  }

  private async jobRequest(
    event: 'job:get' | 'job:close' | 'job:cancel' | 'job:resume',
  ): Promise<JobInfo> {
    this.info = await this.context.connection.request(event, { jobId: this.id }, { retry: true });
    return this.info;
  }

  private subscription(
    kind: OutcomeKind,
    hooks: { onOpen?: () => void; onReturn?: () => void; provenance?: boolean } = {},
  ) {
    return new Subscription(this.context.connection, this.id, kind, {
      highWaterMark: this.context.highWaterMark,
      ...hooks,
    });
  }

  private stream(kind: OutcomeKind, options: OutcomeOptions = {}): OutcomeStream<Outcome> {
    return new OutcomeStream(() =>
      this.subscription(kind, { provenance: options.provenance === true }),
    );
  }

  private async submitAndClose(
    tasks: TaskSource,
    signal: AbortSignal,
    onRange?: (range: BatchRange) => void,
  ): Promise<void> {
    await this.send(tasks, signal, onRange);
    if (!signal.aborted) await this.close();
  }

  private async send(
    tasks: TaskSource,
    signal?: AbortSignal,
    onRange?: (range: BatchRange) => void,
  ): Promise<SubmitResult & { ranges: BatchRange[] }> {
    const batches = batchTasks(tasks, this.context.batch);
    const ranges = await sendWindowed(
      batches,
      onRange
        ? (b) =>
            this.sendBatch(b).then((range) => {
              onRange(range);
              return range;
            })
        : (b) => this.sendBatch(b),
      this.context.window,
      signal,
    );
    if (ranges.length === 0) {
      // Nothing to send; the next task would get index `total`.
      return { count: 0, firstIndex: (await this.status()).total, ranges };
    }
    return {
      count: ranges.reduce((n, r) => n + r.count, 0),
      firstIndex: ranges.reduce((min, r) => Math.min(min, r.firstIndex), Infinity),
      ranges,
    };
  }

  private async sendBatch(batch: TaskBatch): Promise<BatchRange> {
    const { batchId, tasks, offset } = batch;
    // Safe to resend after a reconnect: the server adds a batchId at most once.
    const data = await this.context.connection.request(
      'job:submit',
      // Typed arrays go as socket.io binary attachments, tagged with their kind.
      { jobId: this.id, batchId, tasks: tasks.map(toSocketForm) },
      { retry: true },
    );
    // The shape is decoded by the protocol; that the server took the whole batch is checked here.
    if (data.count !== tasks.length) {
      throw new TabgridError(
        ErrorCode.PROTOCOL,
        `Invalid job:submit answer for batch ${batchId}: ${data.count} of its ${tasks.length} tasks acknowledged.`,
      );
    }
    return { offset, firstIndex: data.firstIndex, count: tasks.length };
  }
}

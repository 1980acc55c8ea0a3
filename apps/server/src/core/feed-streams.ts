/**
 * Live feeds of a job besides its outcomes (issue 13): `logs`, `events`, `series` (one label)
 * and `progress`. The durable three work like OutcomeStreams (which stays untouched: it is the
 * hot path): every subscription reads the store from its own cursor, so a resume after a
 * reconnect and live delivery are one code path, a slow consumer holds only its cursor, and no
 * read goes past what is durable. Logs and events have their own seq; a series rides the
 * outcome seq (one item per settled task that collected under the label).
 *
 * Ends: `series` once the job's outcome streams are finished; `logs` and `events`
 * {@link TEARDOWN_GRACE_MS} after the job is done or cancelled (Teardown's lines come after the
 * last outcome); every feed at once when the job is deleted. `progress` has no cursor: a
 * subscriber gets a snapshot of the running tasks, then the board's coalesced changes (the
 * latest value per task while it is busy, never a backlog), and ends when the job stops running.
 */
import { TabgridError } from '@tabgrid/protocol/errors';
import type { FeedName, JobEvent, LogLine, SeriesItem } from '@tabgrid/protocol/feeds';
import type { StreamEnd } from '@tabgrid/protocol/sdk';
import type { JobRecord, JobStore } from '../store/job-store.js';
import type { Clock, TimerHandle } from './clock.js';
import type { JobFeedsState, LineFeed } from './job-feeds-state.js';
import type { ProgressListener, TaskProgressView } from './progress-board.js';

/** Lines and events keep coming this long after a job is done or cancelled (its Teardown's). */
export const TEARDOWN_GRACE_MS = 5_000;
/** Items per push (as outcome streams). */
export const FEED_BATCH = 2_000;

export type { FeedName, TaskProgressView };
/** The protocol's feed items under the names the core used first (the same types). */
export type LogLineItem = LogLine;
export type JobEventItem = JobEvent;
export type SeriesItemView = SeriesItem;
/** One item of any feed (the protocol's FeedItemOf per feed). */
export type FeedItem = LogLine | JobEvent | SeriesItem | TaskProgressView;

/** A consumer of a feed (an SDK subscription, a REST `?stream` response, …). */
export interface FeedSink {
  /** Delivers a batch; the sink calls `ready` when it can take the next one (backpressure). */
  push(items: FeedItem[], ready: () => void): void;
  /** The feed is over; with reason `error`, `message` says what went wrong. */
  end(reason: StreamEnd['reason'], message?: string): void;
}

/** A job as its feeds read it (the job runtime is one). */
export interface FeedJob {
  readonly record: Readonly<Pick<JobRecord, 'id' | 'state' | 'modified'>>;
  readonly feeds: JobFeedsState;
  /** Highest outcome seq durable (series never read past it). */
  readonly durableSeq: number;
  /** Nothing will ever be added to its outcome streams. */
  readonly streamsFinished: boolean;
}

/** The progress board, as the progress feed reads it (P3b's ProgressBoard is one). */
export interface ProgressSource {
  snapshot(jobId: string, limit?: number): TaskProgressView[];
  onChange(jobId: string, listener: ProgressListener): () => void;
}

interface Subscription {
  id: string;
  jobId: string;
  feed: FeedName;
  label: string;
  /** Everything up to this seq has been pushed (progress: unused). */
  cursor: number;
  sink: FeedSink;
  busy: boolean;
  dirty: boolean;
  ended: boolean;
  /** Progress only: the board listener's unsubscribe, and the latest changes not pushed yet. */
  unlisten?: () => void;
  changed?: Map<number, TaskProgressView>;
}

export class FeedStreams {
  private readonly subs = new Map<string, Subscription>();
  private readonly byJob = new Map<string, Set<Subscription>>();
  /** Per job, the timer that ends its line feeds after the grace. */
  private readonly graceTimers = new Map<string, TimerHandle>();

  constructor(
    private readonly store: JobStore,
    private readonly getJob: (jobId: string) => FeedJob | undefined,
    private readonly board: ProgressSource,
    private readonly clock: Pick<Clock, 'now' | 'setTimeout'>,
  ) {}

  /** Follows `feed` of `jobId` from `from` (a seq; the outcome seq for series), replacing `id`. */
  subscribe(
    id: string,
    jobId: string,
    feed: FeedName,
    from: number,
    label: string | undefined,
    sink: FeedSink,
  ): void {
    this.unsubscribe(id);
    const sub: Subscription = {
      id,
      jobId,
      feed,
      label: label ?? '',
      cursor: from,
      sink,
      busy: false,
      dirty: false,
      ended: false,
    };
    this.subs.set(id, sub);
    let set = this.byJob.get(jobId);
    if (!set) this.byJob.set(jobId, (set = new Set()));
    set.add(sub);
    if (feed === 'progress') this.startProgress(sub);
    this.pumpOne(sub);
  }

  unsubscribe(id: string): void {
    const sub = this.subs.get(id);
    if (!sub) return;
    sub.ended = true;
    sub.unlisten?.();
    this.subs.delete(id);
    const set = this.byJob.get(sub.jobId);
    set?.delete(sub);
    if (set?.size === 0) {
      this.byJob.delete(sub.jobId);
      this.graceTimers.get(sub.jobId)?.cancel();
      this.graceTimers.delete(sub.jobId);
    }
  }

  /** Something of `jobId` became durable, or its state changed (free when nobody follows it). */
  pump(jobId: string): void {
    if (this.byJob.size === 0) return;
    const set = this.byJob.get(jobId);
    if (set) for (const sub of [...set]) this.pumpOne(sub);
  }

  endJob(jobId: string, reason: StreamEnd['reason']): void {
    for (const sub of [...(this.byJob.get(jobId) ?? [])]) this.finish(sub, reason);
  }

  /** Whether any feed follows `jobId`. */
  watching(jobId: string): boolean {
    return this.byJob.has(jobId);
  }

  closeAll(): void {
    for (const sub of [...this.subs.values()]) this.unsubscribe(sub.id);
    for (const timer of this.graceTimers.values()) timer.cancel();
    this.graceTimers.clear();
  }

  /** One page of a line feed after `after`, never past what is durable (REST reads). */
  async readLines(
    job: FeedJob,
    feed: LineFeed,
    after: number,
    limit: number,
  ): Promise<(LogLineItem | JobEventItem)[]> {
    const upTo = job.feeds.durable(feed);
    if (after >= upTo) return [];
    const rows =
      feed === 'logs'
        ? await this.store.readLogs(job.record.id, after, limit)
        : await this.store.readEvents(job.record.id, after, limit);
    const out: (LogLineItem | JobEventItem)[] = [];
    for (const row of rows)
      if (row.seq <= upTo) out.push({ ...row, at: new Date(row.at).toISOString() });
    return out;
  }

  /** The job's last `n` durable lines (or events), oldest first: the dashboard's log tail. */
  tail(job: FeedJob, feed: LineFeed, n: number): Promise<(LogLine | JobEvent)[]> {
    return this.readLines(job, feed, Math.max(0, job.feeds.durable(feed) - n), n);
  }

  /** One page of a series after outcome seq `after`, never past what is durable. */
  async readSeries(
    job: FeedJob,
    label: string,
    after: number,
    limit: number,
  ): Promise<SeriesItemView[]> {
    const upTo = job.durableSeq;
    if (after >= upTo) return [];
    const rows = await this.store.readSeries(job.record.id, label, after, limit);
    const out: SeriesItemView[] = [];
    for (const row of rows) {
      if (row.seq <= upTo)
        out.push({ seq: row.seq, index: row.index, values: JSON.parse(row.values) as unknown[] });
    }
    return out;
  }

  private finish(sub: Subscription, reason: StreamEnd['reason'], message?: string): void {
    this.unsubscribe(sub.id);
    try {
      if (message === undefined) sub.sink.end(reason);
      else sub.sink.end(reason, message);
    } catch (err) {
      console.error(`tabgrid: ending a ${sub.feed} feed of job ${sub.jobId} failed:`, err);
    }
  }

  private fail(sub: Subscription, err: unknown): void {
    console.error(`tabgrid: a ${sub.feed} feed of job ${sub.jobId} failed:`, err);
    const message =
      err instanceof TabgridError
        ? err.message
        : `The server could not deliver the ${sub.feed} after seq ${sub.cursor} (${err instanceof Error ? err.message : String(err)}).`;
    this.finish(sub, 'error', message);
  }

  private deliver(sub: Subscription, items: FeedItem[]): void {
    try {
      sub.sink.push(items, () => {
        sub.busy = false;
        this.pumpOne(sub);
      });
    } catch (err) {
      sub.busy = false;
      this.fail(sub, err);
    }
  }

  private pumpOne(sub: Subscription): void {
    if (sub.ended) return;
    if (sub.busy) {
      sub.dirty = true;
      return;
    }
    const job = this.getJob(sub.jobId);
    if (!job) return this.finish(sub, 'deleted');
    if (sub.feed === 'progress') return this.pumpProgress(sub, job);
    const upTo = sub.feed === 'series' ? job.durableSeq : job.feeds.durable(sub.feed);
    if (sub.cursor >= upTo) return this.maybeEnd(sub, job);
    sub.busy = true;
    sub.dirty = false;
    const read =
      sub.feed === 'series'
        ? this.readSeries(job, sub.label, sub.cursor, FEED_BATCH)
        : this.readLines(job, sub.feed, sub.cursor, FEED_BATCH);
    read.then(
      (items: FeedItem[]) => {
        if (sub.ended) return;
        if (items.length > 0) {
          sub.cursor = (items[items.length - 1] as { seq: number }).seq;
          this.deliver(sub, items);
          return;
        }
        // Nothing (more) up to what is durable: a series may have no row for those outcomes.
        sub.cursor = Math.max(sub.cursor, upTo);
        sub.busy = false;
        if (sub.dirty) this.pumpOne(sub);
        else this.maybeEnd(sub, job);
      },
      (err: unknown) => {
        sub.busy = false;
        this.fail(sub, err);
      },
    );
  }

  /** Ends a feed that delivered everything once its job can add no more. */
  private maybeEnd(sub: Subscription, job: FeedJob): void {
    const state = job.record.state;
    if (sub.feed === 'series') {
      if (job.streamsFinished) this.finish(sub, state);
      return;
    }
    if (state !== 'done' && state !== 'cancelled') return;
    const feed = sub.feed as LineFeed;
    if (job.feeds.durable(feed) < job.feeds.seq(feed)) return; // lines still committing
    if (!job.streamsFinished) return; // a cancel sweep still runs: it pumps when it ends
    // The job's last change is when it ended (its last settle, or the cancel).
    const left = job.record.modified + TEARDOWN_GRACE_MS - this.clock.now();
    if (left <= 0) return this.finish(sub, state);
    if (this.graceTimers.has(sub.jobId)) return;
    const timer = this.clock.setTimeout(() => {
      this.graceTimers.delete(sub.jobId);
      this.pump(sub.jobId);
    }, left);
    this.graceTimers.set(sub.jobId, timer);
  }

  // ---- progress -----------------------------------------------------------------------

  private startProgress(sub: Subscription): void {
    sub.changed = new Map();
    for (const view of this.board.snapshot(sub.jobId)) sub.changed.set(view.index, view);
    sub.unlisten = this.board.onChange(sub.jobId, (changed) => {
      for (const view of changed) sub.changed!.set(view.index, view);
      this.pumpOne(sub);
    });
  }

  private pumpProgress(sub: Subscription, job: FeedJob): void {
    const state = job.record.state;
    if (state === 'done' || state === 'cancelled') return this.finish(sub, state);
    const changed = sub.changed!;
    if (changed.size === 0) return;
    const items: TaskProgressView[] = [];
    for (const [index, view] of changed) {
      items.push(view);
      changed.delete(index);
      if (items.length === FEED_BATCH) break;
    }
    sub.busy = true;
    this.deliver(sub, items);
  }
}

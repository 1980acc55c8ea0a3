/**
 * The durable line feeds of a job: console lines (`logs`) and `tabgrid.emit` events (`events`),
 * one {@link LogSink} each. Lines get their seq as they arrive, wait in memory for the end of
 * the event-loop turn at most, and are then appended to the store in one write per job (riding
 * the store's group commit with the record that holds the new seq), after which the feeds that
 * follow the job are pumped.
 *
 * Per-job caps (TASK_LIMITS.maxLogsPerJob / maxEventsPerJob) are applied from counts before any
 * line is built: {@link LogSink.admit} says how many of `n` fit, and counts the rest dropped.
 * The first time a job's cap is hit, one synthetic `warn` line says so (the one line allowed
 * past the log cap), and JobInfo reports the dropped count.
 */
import { TASK_LIMITS } from '@tabgrid/protocol/task-reports';
import type { JobRecord, JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import type { JobFeedsState, LineFeed } from './job-feeds-state.js';

/** A job as a sink sees it (the job runtime is one). */
export interface SinkJob {
  readonly record: Readonly<JobRecord>;
  readonly feeds: JobFeedsState;
}

/** The worker id the server's own lines carry. */
export const SERVER_WORKER_ID = 'server';

export interface LogSinkDeps {
  store: JobStore;
  clock: Pick<Clock, 'now'>;
  /** Whether the job is still the one in the directory (not deleted meanwhile). */
  stillThere(job: SinkJob): boolean;
  /** New lines of `jobId` are durable: its feeds read on. */
  pump(jobId: string): void;
  /** Most lines (or events) a job may store. */
  maxPerJob: number;
  /** For the events sink: where its cap line goes (the logs sink's {@link LogSink.serverLine}). */
  capLine?: (job: SinkJob, message: string) => void;
}

interface Pending {
  job: SinkJob;
  firstSeq: number;
  lines: string[];
}

export class LogSink {
  private readonly pending = new Map<string, Pending>();
  private armed = false;

  constructor(
    readonly feed: LineFeed,
    private readonly deps: LogSinkDeps,
  ) {}

  /**
   * `n` lines of `job` arrived: returns how many of them (the first) may be stored; the rest
   * are counted dropped, and the first time the job's cap is hit, a line says so.
   */
  admit(job: SinkJob, n: number): number {
    const room = Math.max(0, this.deps.maxPerJob - job.feeds.seq(this.feed));
    if (n <= room) return n;
    const dropped = n - room;
    job.feeds.addDropped(this.feed, dropped);
    this.noteCap(job);
    return room;
  }

  /** `n` lines of `job` were dropped before they got here (a cap in the thread, a budget). */
  dropped(job: SinkJob, n: number): void {
    if (n > 0) job.feeds.addDropped(this.feed, n);
  }

  /** Appends one line (the JSON text of a StoredLogLine / StoredEventLine); admitted first. */
  add(job: SinkJob, line: string): void {
    const seq = job.feeds.nextSeq(this.feed);
    const id = job.record.id;
    const pending = this.pending.get(id);
    if (pending && pending.firstSeq + pending.lines.length === seq) pending.lines.push(line);
    else {
      if (pending) this.write(pending); // a seq gap cannot happen; never merge across one
      this.pending.set(id, { job, firstSeq: seq, lines: [line] });
    }
    if (!this.armed) {
      this.armed = true;
      setImmediate(() => this.flush());
    }
  }

  /** A `warn` line from the server itself (index null), past the cap if need be. */
  serverLine(job: SinkJob, message: string): void {
    this.add(job, logLine(null, 'warn', message, 1, SERVER_WORKER_ID, this.deps.clock.now()));
  }

  /** Writes every pending line now (the end of the turn; tests and close call it too). */
  flush(): void {
    this.armed = false;
    const batches = [...this.pending.values()];
    this.pending.clear();
    for (const batch of batches) this.write(batch);
  }

  private noteCap(job: SinkJob): void {
    const cap = this.deps.maxPerJob;
    if (this.feed === 'logs') {
      // Exactly at the cap means no cap line yet (it is the one line past it); durable, so once.
      if (job.feeds.seq('logs') === cap) {
        this.serverLine(
          job,
          `This job reached ${cap.toLocaleString('en-US')} log lines (the limit per job): later lines are dropped and counted (JobInfo.logs.dropped).`,
        );
      }
    } else if (!job.feeds.eventsCapNoted) {
      job.feeds.eventsCapNoted = true;
      this.deps.capLine?.(
        job,
        `This job reached ${cap.toLocaleString('en-US')} events (the limit per job): later events are dropped and counted (JobInfo.events.dropped).`,
      );
    }
  }

  private write({ job, firstSeq, lines }: Pending): void {
    const { store } = this.deps;
    if (!this.deps.stillThere(job)) return; // deleted meanwhile: nothing to keep
    const id = job.record.id;
    const last = firstSeq + lines.length - 1;
    const append =
      this.feed === 'logs'
        ? store.appendLogs(id, firstSeq, lines)
        : store.appendEvents(id, firstSeq, lines);
    Promise.all([append, store.updateJob(job.record as JobRecord)]).then(
      () => {
        job.feeds.markDurable(this.feed, last);
        this.deps.pump(id);
      },
      (err: unknown) =>
        console.error(`tabgrid: ${this.feed} of job ${id} could not be stored:`, err),
    );
  }
}

/** The JSON text of a StoredLogLine (`at` epoch ms). */
export function logLine(
  index: number | null,
  level: string,
  message: string,
  count: number,
  workerId: string,
  at: number,
): string {
  return JSON.stringify({ index, level, message, count, workerId, at });
}

/** The JSON text of a StoredEventLine; `dataJson` is the event data's JSON text. */
export function eventLine(
  index: number | null,
  name: string,
  dataJson: string,
  at: number,
): string {
  return `{"index":${index},"name":${JSON.stringify(name)},"data":${dataJson},"at":${at}}`;
}

/** The per-job caps, unless a test gives smaller ones. */
export const LINE_CAPS = {
  logs: TASK_LIMITS.maxLogsPerJob,
  events: TASK_LIMITS.maxEventsPerJob,
} as const;

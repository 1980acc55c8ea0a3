/**
 * The worker `report` frame (issue 13): what tasks did besides answering — progress, console
 * lines, events, Setup times. A report is decoded and bounded by the protocol first; here each
 * item is checked against what *this connection was given* before anything is kept:
 *
 * - a job-scoped item (index null: program load, Setup, Teardown) needs the job's program on
 *   this connection, or a program it dropped in the last 30 s (Teardown runs after the job
 *   retired: {@link RecentlyLeft});
 * - a task-scoped item needs the task's lease on this connection. A late report for a task taken
 *   back from it (or for a redundancy job whose quorum settled it) is dropped; anything else is a
 *   forgery, counted like a forged outcome (too many close the connection).
 *
 * Lines and events then pass a per-connection budget ({@link REPORT_RATE} per second, bursts of
 * {@link REPORT_BURST}); beyond it they are counted dropped on their job without being looked
 * into, and the per-job caps of the sinks apply to what is left.
 */
import type { TaskReport } from '@tabgrid/protocol/task-reports';
import type { Clock } from './clock.js';
import type { DeliveryCounters } from './delivery-counters.js';
import { clampMs } from './hold-limit.js';
import type { JobDirectory } from './job-directory.js';
import type { JobRuntime } from './job-runtime.js';
import { eventLine, logLine, type LogSink } from './log-sink.js';
import type { WorkerSession } from './worker-registry.js';

/** Lines plus events per second one connection may have stored (on average). */
export const REPORT_RATE = 50_000;
/** … and in one burst. */
export const REPORT_BURST = 100_000;
/** Jobs per connection told that its report frames were dropped unread. */
const MAX_UNREAD_TOLD = 64;
/** The read budget of routes/report-budget.ts, as the line that tells of it says it. */
const REPORT_READ_RATE_TEXT = '4 MB/s';
/** Setup runs one connection may report per job and thread. */
export const SETUPS_PER_THREAD = 64;

/** The progress board, as reports feed it (P3b's ProgressBoard is one). */
export interface ProgressInput {
  started(jobId: string, index: number, workerId: string): void;
  progress(jobId: string, index: number, workerId: string, fraction: number | null): void;
}

export interface TaskReportsDeps {
  jobs: JobDirectory;
  board: ProgressInput;
  logs: LogSink;
  events: LogSink;
  counters: DeliveryCounters;
  clock: Pick<Clock, 'now'>;
}

/** A connection's token bucket. */
interface Budget {
  tokens: number;
  at: number;
}

export class TaskReports {
  private readonly budgets = new WeakMap<WorkerSession, Budget>();
  /** Setups counted per connection and job (see {@link countSetup}). */
  private readonly setups = new WeakMap<WorkerSession, Map<string, number>>();
  /** Report frames dropped unread per connection, and the jobs told so (≤ MAX_UNREAD_TOLD). */
  /** Jobs told (once each) that some connection's report frames were dropped unread. */
  private readonly toldUnread = new WeakSet<JobRuntime>();
  private readonly unreadFrames = new WeakMap<
    WorkerSession,
    { frames: number; told: Set<string> }
  >();

  constructor(private readonly deps: TaskReportsDeps) {}

  /**
   * A report frame of `worker` was dropped unread (over the connection's read budget, see
   * routes/report-budget.ts): counted, and each job the connection reports on next is told once
   * in a log line that some of its lines and events were never read, so never counted.
   */
  unread(worker: WorkerSession): void {
    this.deps.counters.count('dropped');
    const unread = this.unreadFrames.get(worker);
    if (unread) unread.frames++;
    else this.unreadFrames.set(worker, { frames: 1, told: new Set() });
  }

  accept(worker: WorkerSession, items: readonly TaskReport[]): void {
    const now = this.deps.clock.now();
    const budget = this.refill(worker, now);
    const unread = this.unreadFrames.get(worker);
    for (const item of items) {
      const job = this.deps.jobs.findJob(item.jobId);
      if (!job) {
        // Deleted: its Teardown lines may still come from a connection that had it.
        if (worker.recentlyLeft.has(item.jobId, now)) this.deps.counters.count('dropped');
        else this.forged(worker);
        continue;
      }
      if (!this.allowed(worker, job, item, now)) continue;
      if (unread && !unread.told.has(item.jobId) && unread.told.size < MAX_UNREAD_TOLD) {
        unread.told.add(item.jobId);
        // Once per job (not per connection): like the cap line, the one such line allowed past
        // the job's line cap, since a job flooded enough to be unread is usually at its cap.
        if (!this.toldUnread.has(job)) {
          this.toldUnread.add(job);
          this.deps.logs.serverLine(
            job,
            `Worker ${worker.id} sent reports faster than the server reads them (${REPORT_READ_RATE_TEXT} per connection): ${unread.frames.toLocaleString('en-US')} report frames so far were dropped unread, so their lines and events are not counted.`,
          );
        }
      }
      if (item.index !== null) {
        if (item.started) this.deps.board.started(item.jobId, item.index, worker.id);
        if (item.progress !== undefined) {
          this.deps.board.progress(item.jobId, item.index, worker.id, item.progress);
        }
      } else if (item.setup) {
        if (this.countSetup(worker, item.jobId)) {
          job.counters.noteSetup(clampMs(item.setup.ms, job.record.setupTimeoutMs), item.setup.ok);
        } else this.deps.counters.count('dropped');
      }
      const logs = item.logs?.length ?? 0;
      const events = item.events?.length ?? 0;
      if (logs + events > 0) {
        if (budget.tokens >= logs + events) {
          budget.tokens -= logs + events;
          if (logs > 0) this.keepLogs(worker, job, item);
          if (events > 0) this.keepEvents(job, item);
        } else {
          this.deps.logs.dropped(job, logs);
          this.deps.events.dropped(job, events);
        }
      }
      if (item.dropped) {
        this.deps.logs.dropped(job, item.dropped.logs ?? 0);
        this.deps.events.dropped(job, item.dropped.events ?? 0);
      }
    }
  }

  /** Whether this connection may report `item` (else it is counted: dropped, or forged). */
  private allowed(worker: WorkerSession, job: JobRuntime, item: TaskReport, now: number): boolean {
    const jobId = item.jobId;
    const given = worker.hasProgram(jobId);
    if (item.index === null) {
      if (given || worker.recentlyLeft.has(jobId, now)) return true;
      return this.forged(worker);
    }
    if (given && job.held.heldBy(item.index, worker.id)) return true;
    // Had it once: the lease was taken back, or a quorum settled the task, or the job retired.
    const late =
      (given && (job.quorum !== undefined || worker.leases.wasTakenBack(jobId, item.index))) ||
      (!given && worker.recentlyLeft.has(jobId, now));
    if (!late) return this.forged(worker);
    this.deps.counters.count('dropped');
    return false;
  }

  /**
   * Whether one more Setup of `jobId` on this connection counts: at most
   * {@link SETUPS_PER_THREAD} per thread it announced (a thread runs Setup again only after it
   * was replaced, e.g. a task timed out), so a page cannot inflate JobInfo.setups at will.
   */
  private countSetup(worker: WorkerSession, jobId: string): boolean {
    let counts = this.setups.get(worker);
    if (!counts) this.setups.set(worker, (counts = new Map<string, number>()));
    const count = counts.get(jobId) ?? 0;
    if (count >= Math.max(1, worker.threads) * SETUPS_PER_THREAD) return false;
    counts.set(jobId, count + 1);
    return true;
  }

  private forged(worker: WorkerSession): false {
    worker.countForged();
    this.deps.counters.count('forged');
    return false;
  }

  private keepLogs(worker: WorkerSession, job: JobRuntime, item: TaskReport): void {
    const logs = item.logs!;
    const sink = this.deps.logs;
    const take = sink.admit(job, logs.length);
    for (let i = 0; i < take; i++) {
      const line = logs[i]!;
      sink.add(job, logLine(item.index, line.level, line.message, line.count, worker.id, line.at));
    }
  }

  private keepEvents(job: JobRuntime, item: TaskReport): void {
    const events = item.events!;
    const sink = this.deps.events;
    const take = sink.admit(job, events.length);
    for (let i = 0; i < take; i++) {
      const event = events[i]!;
      sink.add(
        job,
        eventLine(item.index, event.name, JSON.stringify(event.data ?? null), event.at),
      );
    }
  }

  private refill(worker: WorkerSession, now: number): Budget {
    let budget = this.budgets.get(worker);
    if (!budget) {
      this.budgets.set(worker, (budget = { tokens: REPORT_BURST, at: now }));
      return budget;
    }
    const elapsed = Math.max(0, now - budget.at);
    budget.tokens = Math.min(REPORT_BURST, budget.tokens + (elapsed * REPORT_RATE) / 1000);
    budget.at = now;
    return budget;
  }
}

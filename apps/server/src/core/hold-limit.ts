/**
 * How much of a job one worker may hold. Every input a worker controls is bounded here: its
 * `threads` are capped, its credit is capped, each reported `ms` is clamped to the job's timeout,
 * and the hold limit grows only with outcomes the worker returned for tasks leased to it (a
 * per-worker, per-job window, like TCP's slow start), never past an absolute maximum.
 */
import type { LeaseHolder } from '../leases/lease-table.js';
import type { JobRecord } from '../store/job-store.js';

/** A job, as far as hold limits go: its id and how long its tasks took so far. */
export interface TimedJob {
  readonly record: Pick<JobRecord, 'id' | 'finished' | 'failed' | 'computeMs'>;
}

/** A worker, as far as its hold limit goes. */
export interface HoldingWorker {
  /** Threads its hello claimed (not believed past {@link MAX_COUNTED_THREADS}). */
  readonly threads: number;
  readonly leases: Pick<LeaseHolder, 'holding'>;
}

/** Threads counted per worker, whatever `hello` claims (a big desktop has 32 or fewer cores). */
export const MAX_COUNTED_THREADS = 32;
/** Most tasks of one job one worker may hold (the worker page grants at most 4,096 slots). */
export const MAX_HELD_PER_JOB = 4096;
/** Most credit the server keeps for a worker: grants beyond it are ignored. */
export const MAX_KEPT_CREDIT = 4 * MAX_HELD_PER_JOB;
/**
 * Work a worker may hold per thread, by the job's measured task time: enough to keep its
 * threads busy across a round trip, little enough that slow tasks spread across workers
 * instead of piling up on whichever worker has the most credit.
 */
const HELD_MS_PER_THREAD = 250;
/** Tasks per thread a worker may hold of a job none of whose tasks has been timed yet. */
const UNTIMED_TASKS_PER_THREAD = 2;
/** Window gained per outcome returned for a task the worker held. */
const GROWTH_PER_OUTCOME = 3;
/** Shortest average task time the limit believes (reports of `ms: 0` do not make it infinite). */
const MIN_AVG_MS = 0.01;

/** Threads the server counts for `worker`. */
export function countedThreads(worker: Pick<HoldingWorker, 'threads'>): number {
  return Math.min(MAX_COUNTED_THREADS, Math.max(1, worker.threads));
}

/** The window a worker starts a job with: what an untimed job allows it. */
export function initialWindow(worker: Pick<HoldingWorker, 'threads'>): number {
  return countedThreads(worker) * UNTIMED_TASKS_PER_THREAD;
}

/**
 * How many tasks of `job` a worker with `threads` threads may hold, by the job's measured time.
 * Tiny tasks are not limited in practice; a job's first tasks are, until its first outcomes
 * tell how long they take.
 */
export function holdLimit(job: TimedJob, threads: number): number {
  const perThread = Math.min(MAX_COUNTED_THREADS, Math.max(1, threads));
  const timed = job.record.finished + job.record.failed;
  if (timed === 0) return perThread * UNTIMED_TASKS_PER_THREAD;
  const avgMs = Math.max(job.record.computeMs / timed, MIN_AVG_MS);
  const limit = perThread * Math.max(2, Math.ceil(HELD_MS_PER_THREAD / avgMs));
  return Math.min(MAX_HELD_PER_JOB, limit);
}

/** Room `worker` has for more tasks of `job` right now. */
export function room(job: TimedJob, worker: HoldingWorker, share: JobShare): number {
  return (
    Math.min(holdLimit(job, worker.threads), share.window) - worker.leases.holding(job.record.id)
  );
}

/** How much of one job one worker has earned the right to hold (what it holds: its leases). */
export class JobShare {
  constructor(private _window: number) {}

  /**
   * Most tasks of the job it may hold: starts small and grows with every outcome it returns for
   * its own leases (like TCP's slow start), halves on every hand-back. Nothing the worker claims
   * (threads, credit, `ms`) raises it; only answering does.
   */
  get window(): number {
    return this._window;
  }

  /**
   * The worker returned `answered` outcomes for tasks of the job it held: its window grows by
   * three per outcome (×4 per round trip of a full window: an honest worker reaches its credit
   * within a few round trips, while one that never answers keeps its first window).
   */
  grow(answered: number): void {
    this._window = Math.min(MAX_HELD_PER_JOB, this._window + GROWTH_PER_OUTCOME * answered);
  }

  /** The worker handed tasks back unrun: a worker that keeps doing it gets less and less. */
  shrink(): void {
    this._window = Math.max(1, this._window >> 1);
  }
}

/** A reported compute time, clamped to what a task of the job can take (never Infinity or NaN). */
export function clampMs(ms: number, timeoutMs: number): number {
  return ms > timeoutMs ? timeoutMs : ms >= 0 ? ms : 0;
}

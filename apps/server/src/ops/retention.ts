/**
 * TABGRID_RETAIN_DAYS: finished jobs (done, or cancelled with every task settled) whose last
 * change is older than that are deleted with everything they hold, once at start and then every
 * hour; the store then gives the space back. Running jobs are never touched, however old.
 */
import type { Caller } from '../auth/caller.js';
import type { Clock } from '../core/clock.js';
import type { CoreLog } from '../core/core-log.js';
import { errorDetails } from '../core/core-log.js';
import type { Grid } from '../core/grid.js';

export const DAY_MS = 86_400_000;
/** Time between two sweeps. */
export const RETENTION_INTERVAL_MS = 3_600_000;
/** Jobs deleted per commit: a sweep of a year's backlog does not hold the event loop at once. */
const JOBS_PER_STEP = 100;

/** Retention acts as the operator: on every owner's jobs. */
const RETENTION_CALLER: Caller = {
  name: 'retention',
  owner: 'retention',
  role: 'admin',
  seesAll: true,
};

export interface RetentionDeps {
  grid: Pick<Grid, 'finishedBefore' | 'deleteJob'>;
  /** The store's space reclaim, when it has one. */
  reclaimSpace?: () => Promise<number>;
  clock: Pick<Clock, 'now'>;
  log: CoreLog;
  retainDays: number;
}

export interface SweepResult {
  deleted: number;
  bytesFreed: number;
}

export class Retention {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<SweepResult> | undefined;
  private stopped = false;

  constructor(private readonly deps: RetentionDeps) {}

  /** Sweeps now (soon after start) and then every {@link RETENTION_INTERVAL_MS}. */
  start(intervalMs = RETENTION_INTERVAL_MS): void {
    const run = () => void this.sweep().catch(() => {}); // sweep logs its own failures
    setImmediate(run);
    this.timer = setInterval(run, intervalMs);
    this.timer.unref();
  }

  /** Deletes what is past retention now; a sweep already running is joined, not doubled. */
  sweep(): Promise<SweepResult> {
    this.running ??= this.runSweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async runSweep(): Promise<SweepResult> {
    const { grid, clock, log, retainDays } = this.deps;
    const before = clock.now() - retainDays * DAY_MS;
    const expired = grid.finishedBefore(before);
    let deleted = 0;
    try {
      for (let i = 0; i < expired.length && !this.stopped; i += JOBS_PER_STEP) {
        const step = expired.slice(i, i + JOBS_PER_STEP);
        const results = await Promise.allSettled(
          step.map((id) => grid.deleteJob(RETENTION_CALLER, id)),
        );
        // A job its owner deleted meanwhile is simply gone (TG_ERR_JOB_NOT_FOUND): not a failure.
        deleted += results.filter((r) => r.status === 'fulfilled').length;
      }
      const bytesFreed =
        deleted > 0 && this.deps.reclaimSpace && !this.stopped ? await this.deps.reclaimSpace() : 0;
      if (deleted > 0) {
        log.info(
          { deleted, bytesFreed, retainDays, before: new Date(before).toISOString() },
          `retention: deleted ${deleted} finished jobs older than ${retainDays} days`,
        );
      }
      return { deleted, bytesFreed };
    } catch (err) {
      log.error({ deleted, ...errorDetails(err) }, 'retention sweep failed');
      throw err;
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}

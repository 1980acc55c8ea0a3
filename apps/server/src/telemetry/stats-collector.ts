import type {
  DashboardHistory,
  DashboardStats,
  JobDetail,
  JobStats,
  StatsSample,
  WorkerStats,
} from '@tabgrid/protocol/dashboard';
import type { TaskFailure } from '@tabgrid/protocol/jobs';
import type { Caller } from '../auth/caller.js';
import type { JobRuntime } from '../core/job-runtime.js';
import type { Scheduler } from '../core/scheduler.js';

import { HISTORY_POINTS } from './rate-series.js';

const TICK_MS = 1000;

/**
 * Samples throughput once a second and keeps 15 minutes of history. Dashboards get one aggregated
 * snapshot per tick, never an event per result, so watching costs the same at any throughput.
 */
export class StatsCollector {
  private readonly samples: StatsSample[] = [];
  private settledAtTick: number;
  private readonly timer: NodeJS.Timeout;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly scheduler: Scheduler) {
    this.settledAtTick = scheduler.settledTotal;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** The grid's samples, and `job`'s throughput series when one is given. */
  history(job?: JobRuntime): DashboardHistory {
    return { samples: [...this.samples], ...(job ? { job: job.rates.points() } : {}) };
  }

  /** Calls `listener` after every tick; returns the unsubscribe function. */
  onTick(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private tick(): void {
    const seconds = TICK_MS / 1000;
    const now = Date.now();
    const settled = this.scheduler.settledTotal;
    this.samples.push({
      at: now,
      tasksPerSecond: (settled - this.settledAtTick) / seconds,
      workers: this.scheduler.workers.size,
    });
    if (this.samples.length > HISTORY_POINTS) this.samples.shift();
    this.settledAtTick = settled;
    for (const job of this.scheduler.visibleJobs()) {
      job.tasksPerSecond = (job.settled - job.settledAtTick) / seconds;
      job.settledAtTick = job.settled;
      // While it runs, and the tick its last tasks settled in.
      if (job.runnable || job.tasksPerSecond > 0) job.rates.add(now, job.tasksPerSecond);
    }
    for (const worker of this.scheduler.workers.all()) {
      worker.tasksPerSecond = (worker.tasksDone - worker.doneAtTick) / seconds;
      worker.doneAtTick = worker.tasksDone;
    }
    for (const listener of this.listeners) listener();
  }

  /**
   * The snapshot `caller` may see: only its own jobs unless it sees all. Workers are listed only
   * to callers that see every job; anyone else gets them as counts (`sample.workers`,
   * `threads`): a worker's current job, tasks done and user agent belong to other tenants.
   */
  async snapshot(caller: Caller, jobId?: string): Promise<DashboardStats> {
    const jobs = this.scheduler.visibleJobs(caller);
    const stats = jobs.map(jobStats);
    let threads = 0;
    const workers: WorkerStats[] = [];
    for (const w of this.scheduler.workers.all()) {
      threads += w.threads;
      if (!caller.seesAll) continue;
      workers.push({
        id: w.id,
        userAgent: w.userAgent,
        threads: w.threads,
        tasksDone: w.tasksDone,
        tasksPerSecond: w.tasksPerSecond,
        inFlight: w.inFlight,
        currentJob: w.currentJob,
        connectedSince: new Date(w.connectedAt).toISOString(),
        strikes: w.strikes,
        excluded: w.excluded,
      });
    }
    const running = stats.filter((j) => j.state === 'open' || j.state === 'closed');
    const job = jobId ? jobs.find((j) => j.record.id === jobId) : undefined;
    return {
      sample: this.samples.at(-1) ?? {
        at: Date.now(),
        tasksPerSecond: 0,
        workers: this.scheduler.workers.size,
      },
      threads,
      queued: running.reduce((n, j) => n + j.queued, 0),
      inFlight: running.reduce((n, j) => n + j.inFlight, 0),
      jobsRunning: running.length,
      jobs: stats,
      workers,
      ...(job ? { detail: await this.detail(job) } : {}),
    };
  }

  private async detail(job: JobRuntime): Promise<JobDetail> {
    const store = this.scheduler.store;
    const [latest, groups] = await Promise.all([
      store.latestResults(job.record.id, 20),
      store.errorGroups(job.record.id, 20),
    ]);
    return {
      job: jobStats(job),
      latestResults: latest.map((o) => ({
        index: o.index,
        value: JSON.parse(o.payload) as unknown,
      })),
      errorGroups: groups.map((g) => ({
        message: g.message,
        count: g.count,
        example: { ...(JSON.parse(g.example.payload) as TaskFailure), index: g.example.index },
      })),
      durations: job.durations.snapshot(),
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }
}

function jobStats(job: JobRuntime): JobStats {
  return { ...job.info(), tasksPerSecond: job.tasksPerSecond };
}

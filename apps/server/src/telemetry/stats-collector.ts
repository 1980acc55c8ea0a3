import type {
  DashboardHistory,
  DashboardStats,
  JobDetail,
  JobStats,
  StatsSample,
  WorkerStats,
} from '@tabgrid/protocol/dashboard';
import { toTextForm } from '@tabgrid/protocol/bytes';
import { storedFailure, storedValue } from '@tabgrid/protocol/stored';
import type { Caller } from '../auth/caller.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { JobInfo } from '@tabgrid/protocol/jobs';
import type { JobStore } from '../store/job-store.js';
import type { DurationHistogram } from './duration-histogram.js';
import { HISTORY_POINTS, RateSeries } from './rate-series.js';
import type { WorkerMonitor } from './worker-monitor.js';

const TICK_MS = 1000;

/** A job, as far as the collector reads it (the core's job runtime is one). */
export interface StatsJob {
  readonly record: { readonly id: string; readonly created: number };
  /** Tasks settled so far. */
  readonly settled: number;
  readonly runnable: boolean;
  readonly durations: Pick<DurationHistogram, 'snapshot'>;
  info(): JobInfo;
}

/** A worker, as far as the collector reads it (the core's worker session is one). */
export interface StatsWorker {
  readonly id: string;
  readonly userAgent: string;
  readonly threads: number;
  readonly tasksDone: number;
  readonly inFlight: number;
  readonly currentJob: string | null;
  readonly connectedAt: number;
  readonly strikes: number;
  readonly excluded: boolean;
}

/** What the collector reads of the core (it changes nothing there). */
export interface StatsSource {
  /** The jobs `caller` may see, oldest first; every job without a caller. */
  jobs(caller?: Caller): StatsJob[];
  workers: { readonly size: number; all(): IterableIterator<StatsWorker> };
  /** Tasks settled since start. */
  settledTotal(): number;
  store: Pick<JobStore, 'latestResults' | 'errorGroups'>;
  /** The workers' samples (their latest on the snapshot, their windows in the history). */
  monitor: Pick<WorkerMonitor, 'latest' | 'workers'>;
  /** A job's running tasks' progress, newest log lines and series labels (the job page). */
  taskDetail(job: StatsJob): Promise<Pick<JobDetail, 'progress' | 'logTail' | 'seriesLabels'>>;
  /** Workers of the other nodes on this database (several nodes), as they published them. */
  remoteWorkers?: () => readonly WorkerStats[];
}

/** The collector's own numbers for one job. */
interface JobRate {
  settledAtTick: number;
  tasksPerSecond: number;
  /** tasks/s at each tick while the job runs (the dashboard's job chart). */
  readonly series: RateSeries;
}

/** The collector's own numbers for one worker. */
interface WorkerRate {
  doneAtTick: number;
  tasksPerSecond: number;
}

/**
 * Samples throughput once a second and keeps 15 minutes of history. Dashboards get one aggregated
 * snapshot per tick, never an event per result, so watching costs the same at any throughput.
 * A read-only view of the core: its per-job and per-worker rates are its own.
 */
export class StatsCollector {
  private readonly samples: StatsSample[] = [];
  private settledAtTick: number;
  private lastTickAt: number;
  private readonly timer: TimerHandle;
  private readonly listeners = new Set<() => void>();
  private readonly jobRates = new WeakMap<StatsJob, JobRate>();
  private readonly workerRates = new WeakMap<StatsWorker, WorkerRate>();

  constructor(
    private readonly source: StatsSource,
    private readonly clock: Clock,
  ) {
    this.settledAtTick = source.settledTotal();
    this.lastTickAt = clock.now();
    this.timer = clock.setInterval(() => this.tick(), TICK_MS);
  }

  /**
   * The grid's samples, `job`'s throughput series when one is given, and with a `caller` the
   * worker monitor's windows as that caller may see them (see WorkerMonitor.workers).
   */
  history(job?: StatsJob, caller?: Caller): DashboardHistory {
    return {
      samples: [...this.samples],
      ...(job ? { job: this.rateOf(job).series.points() } : {}),
      ...(caller ? { workers: this.source.monitor.workers(caller) } : {}),
    };
  }

  /** Calls `listener` after every tick; returns the unsubscribe function. */
  onTick(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The job finished: its series is thinned to `points`, kept as long as the job is. */
  finished(job: StatsJob, points: number): void {
    this.rateOf(job).series.thin(points);
  }

  private rateOf(job: StatsJob): JobRate {
    let rate = this.jobRates.get(job);
    if (!rate) {
      // A job created since the last tick settled everything it has since then.
      const since = job.record.created >= this.lastTickAt ? 0 : job.settled;
      rate = { settledAtTick: since, tasksPerSecond: 0, series: new RateSeries() };
      this.jobRates.set(job, rate);
    }
    return rate;
  }

  private workerRate(worker: StatsWorker): WorkerRate {
    let rate = this.workerRates.get(worker);
    if (!rate) this.workerRates.set(worker, (rate = { doneAtTick: 0, tasksPerSecond: 0 }));
    return rate;
  }

  private tick(): void {
    const seconds = TICK_MS / 1000;
    const now = this.clock.now();
    const settled = this.source.settledTotal();
    this.samples.push({
      at: now,
      tasksPerSecond: (settled - this.settledAtTick) / seconds,
      workers: this.workerCount(),
    });
    if (this.samples.length > HISTORY_POINTS) this.samples.shift();
    this.settledAtTick = settled;
    for (const job of this.source.jobs()) {
      const rate = this.rateOf(job);
      rate.tasksPerSecond = (job.settled - rate.settledAtTick) / seconds;
      rate.settledAtTick = job.settled;
      // While it runs, and the tick its last tasks settled in.
      if (job.runnable || rate.tasksPerSecond > 0) rate.series.add(now, rate.tasksPerSecond);
    }
    this.lastTickAt = now;
    for (const worker of this.source.workers.all()) {
      const rate = this.workerRate(worker);
      rate.tasksPerSecond = (worker.tasksDone - rate.doneAtTick) / seconds;
      rate.doneAtTick = worker.tasksDone;
    }
    for (const listener of this.listeners) listener();
  }

  /**
   * The snapshot `caller` may see: only its own jobs unless it sees all. Workers are listed only
   * to callers that see every job; anyone else gets them as counts (`sample.workers`,
   * `threads`): a worker's current job, tasks done and user agent belong to other tenants.
   */
  async snapshot(caller: Caller, jobId?: string): Promise<DashboardStats> {
    const jobs = this.source.jobs(caller);
    const stats = jobs.map((job) => this.jobStats(job));
    const remote = this.source.remoteWorkers?.() ?? [];
    let threads = 0;
    for (const w of this.source.workers.all()) threads += w.threads;
    for (const w of remote) threads += w.threads;
    const workers: WorkerStats[] = caller.seesAll ? [...this.localWorkers(), ...remote] : [];
    const running = stats.filter((j) => j.state === 'open' || j.state === 'closed');
    const job = jobId ? jobs.find((j) => j.record.id === jobId) : undefined;
    return {
      sample: this.samples.at(-1) ?? {
        at: this.clock.now(),
        tasksPerSecond: 0,
        workers: this.workerCount(),
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

  /** Workers of the whole grid: this node's and, with several nodes, the others'. */
  private workerCount(): number {
    return this.source.workers.size + (this.source.remoteWorkers?.().length ?? 0);
  }

  /** This node's workers as the dashboard lists them (also what it publishes to other nodes). */
  localWorkers(): WorkerStats[] {
    const workers: WorkerStats[] = [];
    for (const w of this.source.workers.all()) {
      workers.push({
        id: w.id,
        userAgent: w.userAgent,
        threads: w.threads,
        tasksDone: w.tasksDone,
        tasksPerSecond: this.workerRates.get(w)?.tasksPerSecond ?? 0,
        inFlight: w.inFlight,
        currentJob: w.currentJob,
        connectedSince: new Date(w.connectedAt).toISOString(),
        strikes: w.strikes,
        excluded: w.excluded,
        sample: this.source.monitor.latest(w),
      });
    }
    return workers;
  }

  private async detail(job: StatsJob): Promise<JobDetail> {
    const store = this.source.store;
    const [latest, groups, taskDetail] = await Promise.all([
      store.latestResults(job.record.id, 20),
      store.errorGroups(job.record.id, 20),
      this.source.taskDetail(job),
    ]);
    return {
      ...taskDetail,
      job: this.jobStats(job),
      latestResults: latest.map((o) => ({
        index: o.index,
        // The text form, as the dashboard always got it (typed arrays as base64 tags).
        value: toTextForm(storedValue(o.payload)),
      })),
      errorGroups: groups.map((g) => ({
        message: g.message,
        count: g.count,
        example: { ...storedFailure(g.example.payload), index: g.example.index },
      })),
      durations: job.durations.snapshot(),
    };
  }

  private jobStats(job: StatsJob): JobStats {
    return { ...job.info(), tasksPerSecond: this.jobRates.get(job)?.tasksPerSecond ?? 0 };
  }

  stop(): void {
    this.timer.cancel();
    this.listeners.clear();
  }
}

/** The dashboard's stats collector, reading the scheduler (./scheduler.ts builds it with itself). */
import type { Caller } from '../auth/caller.js';
import type { JobStore } from '../store/job-store.js';
import { StatsCollector, type StatsSource } from '../telemetry/stats-collector.js';
import type { WorkerMonitor } from '../telemetry/worker-monitor.js';
import type { Clock } from './clock.js';
import type { ClusterLink } from './cluster-link.js';
import type { JobRuntime } from './job-runtime.js';
import type { ProgressBoard } from './progress-board.js';
import type { TaskFeeds } from './task-feeds.js';
import { taskDetail } from './task-detail.js';

/** The scheduler, as far as its stats read it. */
export interface StatsHost {
  readonly store: JobStore;
  readonly clock: Clock;
  readonly workers: StatsSource['workers'];
  readonly monitor: WorkerMonitor;
  readonly progressBoard: ProgressBoard;
  readonly feeds: TaskFeeds;
  readonly cluster: ClusterLink | undefined;
  readonly settledTotal: number;
  visibleJobs(caller?: Caller): JobRuntime[];
  findJob(jobId: string): JobRuntime | undefined;
}

export function collectStats(s: StatsHost): StatsCollector {
  const store = s.store;
  return new StatsCollector(
    {
      jobs: (caller) => s.visibleJobs(caller),
      workers: s.workers,
      settledTotal: () => s.settledTotal,
      store,
      monitor: s.monitor,
      remoteWorkers: () => s.cluster?.remoteWorkers?.() ?? [],
      taskDetail: (job) =>
        taskDetail(
          { board: s.progressBoard, streams: s.feeds.streams, store },
          s.findJob(job.record.id),
          job.record.id,
        ),
    },
    s.clock,
  );
}

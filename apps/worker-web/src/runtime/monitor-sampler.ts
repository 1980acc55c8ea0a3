import { TASK_LIMITS } from '@tabgrid/protocol/task-reports';
import { WORKER_LIMITS, type WorkerToServer } from '@tabgrid/protocol/worker';

/** A `sample` frame at most this often (the server keeps a window of them per worker). */
export const SAMPLE_MS = TASK_LIMITS.sampleMs;

type Sample = Extract<WorkerToServer, { type: 'sample' }>;

/** Most busy time one sample may claim, per the protocol's bounds. */
const MAX_THREAD_BUSY_MS = 600_000;
const MAX_JOB_BUSY_MS = 1.6e8;

/** `performance.memory` where the browser exposes it (Chromium), else undefined. */
function heapUsed(): number | null {
  const memory = (performance as { memory?: { usedJSHeapSize?: unknown } }).memory;
  const used = memory?.usedJSHeapSize;
  return typeof used === 'number' && Number.isFinite(used) && used >= 0 ? Math.floor(used) : null;
}

/**
 * The worker monitor's sampler: every {@link SAMPLE_MS} it tells the server how busy each
 * thread was (compute time of the tasks it reported), how many tasks ran, the JS heap where
 * the browser says, and the busy time per job. Nothing is sent while no task ran.
 */
export class MonitorSampler {
  private tasks = 0;
  private readonly jobBusy = new Map<string, number>();
  private last = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    /** Compute time each thread reported since the last call (ThreadPool.takeBusyMs). */
    private readonly takeBusyMs: () => number[],
    private readonly send: (sample: Sample) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.last = this.now();
  }

  /** `count` tasks of `jobId` finished, taking `ms` of compute time (one call per batch). */
  record(jobId: string, count: number, ms: number): void {
    this.tasks += count;
    this.jobBusy.set(jobId, (this.jobBusy.get(jobId) ?? 0) + ms);
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), SAMPLE_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Sends a sample when tasks ran since the last one; returns it (tests) or undefined. */
  sample(): Sample | undefined {
    const at = this.now();
    const intervalMs = Math.min(Math.max(at - this.last, 100), MAX_THREAD_BUSY_MS);
    this.last = at;
    const busy = this.takeBusyMs();
    if (this.tasks === 0) {
      this.jobBusy.clear();
      return undefined;
    }
    const jobs = [...this.jobBusy]
      .sort((a, b) => b[1] - a[1])
      .slice(0, WORKER_LIMITS.maxSampleJobs)
      .map(([jobId, ms]) => ({ jobId, busyMs: Math.min(Math.max(ms, 0), MAX_JOB_BUSY_MS) }));
    const sample: Sample = {
      type: 'sample',
      busyMs: busy.slice(0, 256).map((ms) => Math.min(Math.max(ms, 0), intervalMs)),
      intervalMs,
      tasks: Math.min(this.tasks, 1e9),
      heapUsed: heapUsed(),
      jobs,
    };
    this.tasks = 0;
    this.jobBusy.clear();
    this.send(sample);
    return sample;
  }
}

/**
 * Workers joining and leaving, as counts: one line per interval in which something changed
 * ("workers 1200 (+40 joined, -12 left), threads 4800"), never one line per tab — a grid of
 * thousands of tabs would drown the log in them.
 */
import type { CoreLog } from '../core/core-log.js';

export interface WorkerCounts {
  workers: number;
  threads: number;
  workersJoined: number;
  workersLeft: number;
}

/** Default time between two lines (at most). */
export const WORKER_LOG_INTERVAL_MS = 10_000;

export class WorkerCountLog {
  private last: WorkerCounts = { workers: 0, threads: 0, workersJoined: 0, workersLeft: 0 };
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly counts: () => WorkerCounts,
    private readonly log: Pick<CoreLog, 'info'>,
  ) {}

  start(intervalMs = WORKER_LOG_INTERVAL_MS): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref(); // never what keeps the process alive
  }

  /** Logs the change since the last line, if there was one. */
  tick(): void {
    const now = this.counts();
    const joined = now.workersJoined - this.last.workersJoined;
    const left = now.workersLeft - this.last.workersLeft;
    if (joined === 0 && left === 0 && now.threads === this.last.threads) return;
    this.last = { ...now };
    this.log.info(
      { workers: now.workers, threads: now.threads, joined, left },
      `workers ${now.workers} (+${joined} joined, -${left} left), threads ${now.threads}`,
    );
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

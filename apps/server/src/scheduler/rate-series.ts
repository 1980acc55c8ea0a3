import type { RateSample } from '@tabgrid/protocol/dashboard';

/** 15 minutes of one-second stats ticks. */
export const HISTORY_POINTS = 900;

/**
 * A job's tasks/s, one point per stats tick while it runs, the newest {@link HISTORY_POINTS}
 * kept: so a dashboard opened mid-job draws the job's chart from its start (or 15 minutes back).
 * Two number arrays rather than an object per point: every job keeps one.
 */
export class RateSeries {
  private readonly at: number[] = [];
  private readonly rate: number[] = [];

  add(at: number, tasksPerSecond: number): void {
    this.at.push(at);
    this.rate.push(tasksPerSecond);
    if (this.at.length > HISTORY_POINTS) {
      this.at.shift();
      this.rate.shift();
    }
  }

  points(): RateSample[] {
    return this.at.map((at, i) => ({ at, tasksPerSecond: this.rate[i]! }));
  }
}

import type { RateSample } from '@tabgrid/protocol/dashboard';

/** 15 minutes of one-second stats ticks. */
export const HISTORY_POINTS = 900;
/** What a finished job keeps of its series (see {@link RateSeries.thin}). */
export const FINISHED_POINTS = 120;

/**
 * A job's tasks/s, one point per stats tick while it runs, the newest {@link HISTORY_POINTS}
 * kept: so a dashboard opened mid-job draws the job's chart from its start (or 15 minutes back).
 * Two number arrays rather than an object per point: every job keeps one.
 */
export class RateSeries {
  private at: number[] = [];
  private rate: number[] = [];

  add(at: number, tasksPerSecond: number): void {
    this.at.push(at);
    this.rate.push(tasksPerSecond);
    if (this.at.length > HISTORY_POINTS) {
      this.at.shift();
      this.rate.shift();
    }
  }

  /**
   * Averages runs of consecutive points so that at most `maxPoints` remain (each at its run's
   * last time): a finished job keeps the shape of its run in little memory.
   */
  thin(maxPoints: number): void {
    const run = Math.ceil(this.at.length / maxPoints);
    if (run <= 1) return;
    const at: number[] = [];
    const rate: number[] = [];
    for (let i = 0; i < this.at.length; i += run) {
      const end = Math.min(i + run, this.at.length);
      let sum = 0;
      for (let j = i; j < end; j++) sum += this.rate[j]!;
      at.push(this.at[end - 1]!);
      rate.push(sum / (end - i));
    }
    this.at = at;
    this.rate = rate;
  }

  points(): RateSample[] {
    return this.at.map((at, i) => ({ at, tasksPerSecond: this.rate[i]! }));
  }
}

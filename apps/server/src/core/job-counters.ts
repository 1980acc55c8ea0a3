/**
 * A job's task-model counters in its record (issue 13): Setup times, collected series and the
 * usage its workers' samples charged. Each changes the record, which the next `updateJob`
 * stores (a settle, a state change); none of them is on the plain Run-only path.
 */
import type { JobRecord } from '../store/job-store.js';

export class JobCounters {
  /** @param record the job's record (its runtime owns it and stores it). */
  constructor(private readonly record: JobRecord) {}

  /** Serialized series stored so far. */
  get seriesBytes(): number {
    return this.record.seriesBytes;
  }

  /**
   * A thread's Setup finished after `ms`; `ok`: it neither threw nor timed out. Every run counts
   * (JobInfo.setups.count is the threads that ran it); a failure also costs its tasks an attempt
   * (Settlement.failSetup).
   */
  noteSetup(ms: number, _ok: boolean): void {
    const setups = this.record.setups;
    setups.count++;
    setups.totalMs += ms;
    if (ms > setups.maxMs) setups.maxMs = ms;
  }

  /** `chars` more of collected series stored, `droppedValues` more dropped over a cap. */
  noteSeries(chars: number, droppedValues: number): void {
    this.record.seriesBytes += chars;
    this.record.seriesDropped = Math.min(
      Number.MAX_SAFE_INTEGER,
      this.record.seriesDropped + droppedValues,
    );
  }

  /** A worker's sample charged `cpuMs` to the job, and saw `heapBytes` while it ran. */
  noteUsage(cpuMs: number, heapBytes: number | null): void {
    this.record.cpuMs += cpuMs;
    const peak = this.record.peakHeapBytes;
    if (heapBytes !== null && (peak === null || heapBytes > peak)) {
      this.record.peakHeapBytes = heapBytes;
    }
  }
}

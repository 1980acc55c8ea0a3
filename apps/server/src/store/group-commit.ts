import type { LatencyBuckets } from '../latency-buckets.js';
import { copyJobRecord, type JobRecord } from './job-store.js';

interface Pending<W> {
  writes: W[];
  jobUpdates: Map<string, JobRecord>;
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}

/**
 * The group commit every JobStore adapter shares: writes queue up during a turn of the event
 * loop and are applied together, in issue order, on the next `setImmediate`; each write's promise
 * resolves once the commit holding it is durable, or rejects with the commit's error (an adapter
 * applies a commit all or nothing). Record updates are kept apart, the latest per job winning,
 * and applied after the commit's other writes.
 */
export class GroupCommit<W> {
  private pending: Pending<W> | undefined;

  constructor(
    private readonly apply: (writes: W[], jobUpdates: Iterable<JobRecord>) => void,
    /** Where each commit's duration goes (once per commit, not per write), if anywhere. */
    private readonly times?: LatencyBuckets,
  ) {}

  add(write: W | undefined, jobUpdate?: JobRecord): Promise<void> {
    if (!this.pending) {
      this.pending = { writes: [], jobUpdates: new Map(), waiters: [] };
      setImmediate(() => this.flush());
    }
    const pending = this.pending;
    if (write) pending.writes.push(write);
    // A copy: the caller keeps changing its record; what it was at this call is what commits.
    if (jobUpdate) pending.jobUpdates.set(jobUpdate.id, copyJobRecord(jobUpdate));
    return new Promise((resolve, reject) => pending.waiters.push({ resolve, reject }));
  }

  /** Commits what is queued now (before closing); the scheduled commit then finds nothing. */
  flush(): void {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    const started = this.times ? performance.now() : 0;
    try {
      this.apply(pending.writes, pending.jobUpdates.values());
      this.times?.observe(performance.now() - started);
    } catch (err) {
      for (const waiter of pending.waiters) waiter.reject(err);
      return;
    }
    for (const waiter of pending.waiters) waiter.resolve();
  }
}

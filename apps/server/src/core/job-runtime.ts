import type { TimerHandle } from './clock.js';
import type { JobInfo, Outcome } from '@tabgrid/protocol/jobs';
import { storedFailure, storedValue } from '@tabgrid/protocol/stored';
import type {
  JobCode,
  JobRecord,
  JobStore,
  StoredOutcome,
  StoredTask,
} from '../store/job-store.js';

import { JobLeases, type Lease } from '../leases/lease-table.js';
import { DurationHistogram } from '../telemetry/duration-histogram.js';
import { Quorum } from './quorum.js';

import { TaskQueue } from './task-queue.js';

/** Outcomes kept in memory per job, so streams that keep up never read the store back. */
const RECENT_MAX = 20_000;

/** An outcome about to be stored; `value` is the parsed result when the caller has it. */
export type Settled = Omit<StoredOutcome, 'seq'> & { value?: unknown };

/**
 * A job as the scheduler holds it: the durable record plus, while the job can still run
 * tasks, its code, queue and leases. Finished and cancelled jobs keep only the record.
 */
export class JobRuntime {
  code: JobCode | undefined;
  queue: TaskQueue | undefined;
  /** Replica bookkeeping when the job runs with `redundancy` > 1. */
  quorum: Quorum | undefined;
  /** Its leases: the lease table's entry for this job (the table changes it, nobody else). */
  readonly held: JobLeases;
  /** Failed attempts (lost or timed out) of tasks that have not settled yet. */
  readonly attempts = new Map<number, number>();
  /** Retries already granted to tasks whose Run threw (`retryErrors`). */
  readonly errorRetries = new Map<number, number>();
  /**
   * Tasks that were out on a tab that dropped without handing them back (a crash, maybe theirs):
   * each runs next on a worker that holds nothing else, so only a loss while it runs alone is
   * charged to it, and the tasks that merely shared the tab are not.
   */
  readonly suspects = new Map<number, StoredTask>();
  /**
   * Per suspect, the worker identities whose tab dropped while running it alone. A crash is
   * charged once per identity: one host that takes a task and hangs up, again and again, cannot
   * settle it as `lost` (nor pause its job) by itself.
   */
  readonly crashedOn = new Map<number, Set<string>>();
  /** Worker identities whose page reported this job's code tampering with its sandbox. */
  readonly faultReporters = new Set<string>();
  /** The worker draining to run the next suspect (see the dispatcher). */
  drainer: string | undefined;
  /** Cancelled, and its unsettled tasks are still being settled as `cancelled` errors. */
  cancelling = false;
  /** Backoff timers of tasks waiting to be retried. */
  readonly retryTimers = new Set<TimerHandle>();
  /** Per-task compute times since the server started (the dashboard's histogram). */
  readonly durations = new DurationHistogram();
  /** The latest durable outcomes, in seq order (seqs `recentFirstSeq` …). */
  recent: Outcome[] = [];
  /** Highest seq known durable; streams never read past it. */
  durableSeq: number;
  /** Next index to assign to a submitted task (ahead of `record.total` while a batch commits). */
  nextIndex: number;
  /** Batches being committed, by id, so a retried batch waits for the first instead of doubling. */
  readonly pendingBatches = new Map<string, Promise<{ firstIndex: number; count: number }>>();

  constructor(
    public record: JobRecord,
    store: JobStore,
    code?: JobCode,
    leases?: JobLeases,
  ) {
    this.durableSeq = record.lastSeq;
    this.nextIndex = record.total;
    this.held = leases ?? new JobLeases(record.id);
    if (code && this.runnable) {
      this.code = code;
      this.queue = new TaskQueue(store, record.id, record.total);
      if (record.redundancy > 1)
        this.quorum = new Quorum(record.redundancy, record.maxReplicas, this.held);
    }
  }

  /** Exclusive leases by task index (read-only: the lease table owns them). */
  get leases(): ReadonlyMap<number, Lease> {
    return this.held.exclusive;
  }

  get runnable(): boolean {
    return this.record.state === 'open' || this.record.state === 'closed';
  }

  /** Tasks waiting for a worker (suspects included). */
  get waiting(): number {
    return (this.queue?.size ?? 0) + this.suspects.size;
  }

  /** Whether dispatch may hand out this job's tasks. */
  get dispatchable(): boolean {
    return this.queue !== undefined && this.code !== undefined && !this.record.paused;
  }

  get settled(): number {
    return this.record.finished + this.record.failed;
  }

  /** Closed and every task settled. */
  get complete(): boolean {
    return this.record.state === 'closed' && this.settled === this.record.total;
  }

  /** Nothing will ever be added to this job's outcome streams. */
  get streamsFinished(): boolean {
    return (
      (this.record.state === 'done' || this.record.state === 'cancelled') &&
      !this.cancelling &&
      this.durableSeq === this.record.lastSeq
    );
  }

  /**
   * Keeps just-committed outcomes for live streams (commits complete in seq order). A payload
   * that does not parse leaves the window empty: streams then read the store, which reports it.
   */
  remember(stored: StoredOutcome[], settled: Settled[]): void {
    try {
      this.rememberAll(stored, settled);
    } catch (err) {
      this.recent = [];
      console.error(`tabgrid: outcomes of job ${this.record.id} did not parse back:`, err);
    }
  }

  private rememberAll(stored: StoredOutcome[], settled: Settled[]): void {
    const first = stored[0];
    if (!first) return;
    const last = this.recent[this.recent.length - 1];
    if (last && last.seq + 1 !== first.seq) this.recent = [];
    for (let i = 0; i < stored.length; i++) {
      const o = stored[i]!;
      const value = settled[i]?.value;
      this.recent.push(
        o.ok
          ? {
              seq: o.seq,
              index: o.index,
              ok: true,
              value: value === undefined ? storedValue(o.payload) : value,
            }
          : { seq: o.seq, index: o.index, ok: false, error: storedFailure(o.payload) },
      );
    }
    if (this.recent.length > RECENT_MAX) this.recent = this.recent.slice(-RECENT_MAX / 2);
  }

  /** Drops everything that only a runnable job needs (its leases were released first). */
  retire(): void {
    this.code = undefined;
    this.queue = undefined;
    this.quorum = undefined;
    this.suspects.clear();
    this.crashedOn.clear();
    this.attempts.clear();
    this.errorRetries.clear();
    for (const timer of this.retryTimers) timer.cancel();
    this.retryTimers.clear();
  }

  info(): JobInfo {
    const r = this.record;
    const inFlight = this.held.inFlight;
    const settled = r.finished + r.failed;
    return {
      id: r.id,
      name: r.name,
      group: r.group,
      state: r.state,
      total: r.total,
      finished: r.finished,
      failed: r.failed,
      inFlight,
      queued: this.runnable ? Math.max(0, r.total - settled - inFlight) : 0,
      // Reports are clamped now; a record stored before that may hold Infinity (JSON null).
      computeMs: Math.round(r.computeMs),
      created: new Date(r.created).toISOString(),
      modified: new Date(r.modified).toISOString(),
      lastResult: r.lastResult === null ? null : new Date(r.lastResult).toISOString(),
      timeoutMs: r.timeoutMs,
      maxAttempts: r.maxAttempts,
      retryErrors: r.retryErrors,
      redundancy: r.redundancy,
      maxReplicas: r.maxReplicas,
      disagreements: r.disagreements,

      priority: r.priority,
      paused: r.paused,
    };
  }
}

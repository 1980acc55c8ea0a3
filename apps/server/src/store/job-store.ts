import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import type {
  StoredBatch,
  StoredJobRecord,
  StoredOutcome as StoredOutcomeRow,
} from '@tabgrid/protocol/stored';

/**
 * A job's durable record, without its program and args (those are written once, at creation).
 * Every field is present (`paused: null` while it runs, `crashedTasks: 0` …): the store's
 * migrations complete records older releases wrote, and its decoder checks every one it reads.
 */
export type JobRecord = StoredJobRecord;

/** What a worker needs to run the job: the program text and the shared args as JSON text. */
export interface JobCode {
  program: string;
  argsJson: string;
}

/** A queued task; `input` is JSON text, kept as text so it is never re-encoded on the hot path. */
export interface StoredTask {
  index: number;
  input: string;
}

/** A settled task; `payload` is the value's JSON (ok) or a TaskFailure's JSON (not ok). */
export type StoredOutcome = StoredOutcomeRow;

/** Where a submitted batch starts and how many tasks it holds. */
export type { StoredBatch };

/**
 * Where jobs, tasks and outcomes live. Every adapter must pass `job-store.conformance.ts`
 * (SqliteJobStore on disk, MemoryJobStore for tests that need none).
 *
 * Writes are group-committed: each returns a promise that resolves once the write is durable,
 * and writes issued in the same turn of the event loop commit together, in issue order.
 * Settling a task that is already settled changes nothing (exactly-once at the store too).
 */
export interface JobStore {
  createJob(job: JobRecord, code: JobCode): Promise<void>;
  /** Replaces the job's record (counters, state); the latest call in a commit wins. */
  updateJob(job: JobRecord): Promise<void>;
  /** Appends tasks `firstIndex … firstIndex + inputs.length - 1` and remembers the batch id. */
  appendTasks(jobId: string, batchId: string, firstIndex: number, inputs: string[]): Promise<void>;
  settle(jobId: string, outcomes: StoredOutcome[]): Promise<void>;
  /** Records a task's failed tries so far (rare: only when one fails), replacing earlier counts. */
  saveTries(jobId: string, index: number, tries: TaskTries): Promise<void>;
  deleteJob(jobId: string): Promise<void>;

  listJobs(): Promise<JobRecord[]>;
  getJobCode(jobId: string): Promise<JobCode | undefined>;
  /** The saved tries of the job's tasks that have not settled. */
  readTries(jobId: string): Promise<Map<number, TaskTries>>;
  /** A batch already appended under this id, if any (idempotent submission). */
  findBatch(jobId: string, batchId: string): Promise<StoredBatch | undefined>;
  /** Unsettled tasks with index ≥ `fromIndex`, in index order. */
  readQueued(jobId: string, fromIndex: number, limit: number): Promise<StoredTask[]>;
  /** Settled outcomes with seq > `afterSeq`, in seq order, filtered by kind. */
  readOutcomes(
    jobId: string,
    afterSeq: number,
    kind: OutcomeKind,
    limit: number,
  ): Promise<StoredOutcome[]>;
  /** The newest results, newest first (the dashboard's tail). */
  latestResults(jobId: string, limit: number): Promise<StoredOutcome[]>;
  /** Errors grouped by message, most frequent first, with one full example each. */
  errorGroups(jobId: string, limit: number): Promise<StoredErrorGroup[]>;
  close(): Promise<void>;
}

/**
 * How often a task has failed so far without settling: `attempts` lost or timed out (counted
 * against `maxAttempts`), `errorRetries` granted after Run threw (`retryErrors`). Saved so a
 * server restart does not give a task that keeps failing a fresh allowance.
 */
export interface TaskTries {
  attempts: number;
  errorRetries: number;
}

export interface StoredErrorGroup {
  message: string;
  count: number;
  /** One outcome of the group. */
  example: StoredOutcome;
}

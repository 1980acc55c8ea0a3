import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import type { CarriedValue } from '@tabgrid/protocol/packed-value';
import type { LatencyBuckets } from '../latency-buckets.js';
import type {
  StoredBatch,
  StoredEventLine,
  StoredEventRow,
  StoredJobRecord,
  StoredLogLine,
  StoredLogRow,
  StoredMessage,
  StoredNote,
  StoredOutcome as StoredOutcomeRow,
  StoredSeriesRow,
} from '@tabgrid/protocol/stored';

/**
 * A job's durable record, without its program and args (those are written once, at creation).
 * Every field is present (`paused: null` while it runs, `crashedTasks: 0` …): the store's
 * migrations complete records older releases wrote, and its decoder checks every one it reads.
 */
export type JobRecord = StoredJobRecord;

/** A copy of `record` sharing nothing with it (its one nested object, `setups`, copied too). */
export function copyJobRecord(record: Readonly<JobRecord>): JobRecord {
  return { ...record, setups: { ...record.setups } };
}

/** What a worker needs to run the job: the program text and the shared args as JSON text. */
export interface JobCode {
  program: string;
  argsJson: string;
}

/** A task input or result as the server keeps it: JSON text, or packed bytes (./packed-value). */
export type { CarriedValue };

/**
 * A queued task; `input` is JSON text, kept as text so it is never re-encoded on the hot path,
 * or (holding typed arrays) packed: header JSON plus raw bytes, never base64 (schema 5).
 * `submittedAt` (epoch ms) is when its batch was appended; absent for batches stored before
 * schema version 4 (and for appends that gave none).
 */
export interface StoredTask {
  index: number;
  input: CarriedValue;
  submittedAt?: number;
}

/** A task one of several nodes claimed, with the failed tries saved for it (by any node). */
export interface ClaimedTask extends StoredTask {
  tries?: TaskTries;
}

/** A StoredTask, its `submittedAt` only when known (stores and queues build them alike). */
export function storedTask(
  index: number,
  input: CarriedValue,
  submittedAt?: number | null,
): StoredTask {
  return submittedAt === undefined || submittedAt === null
    ? { index, input }
    : { index, input, submittedAt };
}

/**
 * Where and how a task settled, stored with its outcome (the job's program hash is in its
 * record): the worker connection that answered the settling attempt (null: none did), that
 * attempt's number, the run time the worker reported (null: none) and the time from submission
 * to that attempt's dispatch (null: unknown).
 */
export interface OutcomeProvenance {
  workerId: string | null;
  attempt: number;
  runMs: number | null;
  queuedMs: number | null;
}

/**
 * A settled task; `payload` is the value's JSON or packed bytes (ok) or a TaskFailure's JSON
 * (not ok: always text).
 * `provenance` is written with every settle from schema version 4 on, and read back only when
 * asked for (`readOutcomes(…, { provenance: true })`).
 */
export interface StoredOutcome extends StoredOutcomeRow {
  provenance?: OutcomeProvenance;
}

/** Where a submitted batch starts and how many tasks it holds. */
export type { StoredBatch };

export type {
  StoredEventLine,
  StoredEventRow,
  StoredLogLine,
  StoredLogRow,
  StoredMessage,
  StoredNote,
  StoredSeriesRow,
};

/**
 * What settled tasks collected under one label, to store with their outcomes: one line per task,
 * `"seq,index,valuesJson"` (`seq` the task's outcome seq, `valuesJson` the JSON text of its values
 * array), in seq order. {@link seriesLine} builds one.
 */
export interface StoredSeriesLines {
  label: string;
  lines: string[];
}

/** A line of {@link StoredSeriesLines}. */
export function seriesLine(seq: number, index: number, valuesJson: string): string {
  return `${seq},${index},${valuesJson}`;
}

/** A line for {@link JobStore.appendLogs}: a log line without its seq, as JSON text. */
export function logLineText(line: StoredLogLine): string {
  return JSON.stringify(line);
}

/** A line for {@link JobStore.appendEvents}: an event without its seq (`data` JSON-safe), as JSON text. */
export function eventLineText(event: StoredEventLine): string {
  return JSON.stringify(event);
}

/**
 * Where jobs, tasks and outcomes live, and what tasks report (logs, events, series), messages
 * to them and notes. Every adapter must pass `job-store.conformance.ts` and
 * `feed-store.conformance.ts` (SqliteJobStore on disk, MemoryJobStore for tests that need none).
 *
 * Writes are group-committed: each returns a promise that resolves once the write is durable,
 * and writes issued in the same turn of the event loop commit together, in issue order.
 * Settling a task that is already settled changes nothing (exactly-once at the store too).
 */
export interface JobStore {
  createJob(job: JobRecord, code: JobCode): Promise<void>;
  /** Replaces the job's record (counters, state); the latest call in a commit wins. */
  updateJob(job: JobRecord): Promise<void>;
  /**
   * Appends tasks `firstIndex … firstIndex + inputs.length - 1` and remembers the batch id;
   * `submittedAt` (epoch ms) comes back on each of them (StoredTask.submittedAt). A packed input
   * comes back as bytes equal to it (stored as a BLOB / bytea), a text one as the same text.
   */
  appendTasks(
    jobId: string,
    batchId: string,
    firstIndex: number,
    inputs: CarriedValue[],
    submittedAt?: number,
  ): Promise<void>;
  /**
   * Stores outcomes (seq order), and with them in the same commit the series those tasks
   * collected: a duplicate's series are dropped with it (its task settled already). Without
   * `series` this is the plain path and costs nothing more than before.
   */
  settle(jobId: string, outcomes: StoredOutcome[], series?: StoredSeriesLines[]): Promise<void>;
  /** Records a task's failed tries so far (rare: only when one fails), replacing earlier counts. */
  saveTries(jobId: string, index: number, tries: TaskTries): Promise<void>;
  /** Deletes the job with its tasks, outcomes, tries, logs, events, series and messages. */
  deleteJob(jobId: string): Promise<void>;

  /**
   * Appends log lines `firstSeq … firstSeq + lines.length - 1`: each the JSON text of a
   * StoredLogLine (a LogLine without its seq). A seq stored already makes the commit fail.
   */
  appendLogs(jobId: string, firstSeq: number, lines: string[]): Promise<void>;
  /** Log lines with seq > `afterSeq`, in seq order, decoded. */
  readLogs(jobId: string, afterSeq: number, limit: number): Promise<StoredLogRow[]>;
  /** Appends events as {@link appendLogs} appends lines: each the JSON text of a StoredEventLine. */
  appendEvents(jobId: string, firstSeq: number, lines: string[]): Promise<void>;
  /** Events with seq > `afterSeq`, in seq order, decoded. */
  readEvents(jobId: string, afterSeq: number, limit: number): Promise<StoredEventRow[]>;
  /** What settled tasks collected under `label`, outcome seq > `afterSeq`, in seq order. */
  readSeries(
    jobId: string,
    label: string,
    afterSeq: number,
    limit: number,
  ): Promise<StoredSeriesRow[]>;
  /** The labels the job's settled tasks collected under, in code-unit order (at most `limit`). */
  seriesLabels(jobId: string, limit: number): Promise<string[]>;
  /**
   * Stores a message (`job.tell`). A `messageId` (or `seq`) the job holds already adds nothing:
   * a resend is answered with {@link findMessage}'s seq, and never fails the commit it is in.
   */
  appendMessage(
    jobId: string,
    seq: number,
    messageId: string,
    dataJson: string,
    at: number,
  ): Promise<void>;
  /** The seq under which `messageId` was stored, if it was. */
  findMessage(jobId: string, messageId: string): Promise<number | undefined>;
  /** Messages with seq > `afterSeq`, in seq order. */
  readMessages(jobId: string, afterSeq: number, limit: number): Promise<StoredMessage[]>;
  /** Adds a note, then keeps only the owner's newest `keep` notes. */
  addNote(owner: string, at: number, text: string, keep: number): Promise<void>;
  /**
   * Notes at or after `since` (epoch ms) of `owner` (undefined: every owner's), oldest first;
   * when more than `limit` match, the newest `limit` of them.
   */
  readNotes(owner: string | undefined, since: number, limit: number): Promise<StoredNote[]>;

  listJobs(): Promise<JobRecord[]>;
  getJobCode(jobId: string): Promise<JobCode | undefined>;
  /**
   * The newest job (by `created`; the later stored on a tie) named `name` of `owner` (undefined:
   * of any owner), as `tg.latestJob(name)` finds it.
   */
  latestJobByName(owner: string | undefined, name: string): Promise<JobRecord | undefined>;
  /** The saved tries of the job's tasks that have not settled. */
  readTries(jobId: string): Promise<Map<number, TaskTries>>;
  /** A batch already appended under this id, if any (idempotent submission). */
  findBatch(jobId: string, batchId: string): Promise<StoredBatch | undefined>;
  /** Task `index` as submitted (settled or not), or undefined if the job has no such task. */
  readTask(jobId: string, index: number): Promise<StoredTask | undefined>;
  /** Unsettled tasks with index ≥ `fromIndex`, in index order. */
  readQueued(jobId: string, fromIndex: number, limit: number): Promise<StoredTask[]>;
  /**
   * Settled outcomes with seq > `afterSeq`, in seq order, filtered by kind; with
   * `provenance`, each with the provenance stored with it (none for outcomes stored before
   * schema version 4). Without it, no outcome carries one.
   */
  readOutcomes(
    jobId: string,
    afterSeq: number,
    kind: OutcomeKind,
    limit: number,
    options?: { provenance?: boolean },
  ): Promise<StoredOutcome[]>;
  /** The newest results, newest first (the dashboard's tail). */
  latestResults(jobId: string, limit: number): Promise<StoredOutcome[]>;
  /** Errors grouped by message, most frequent first, with one full example each. */
  errorGroups(jobId: string, limit: number): Promise<StoredErrorGroup[]>;
  close(): Promise<void>;

  // ---- operations (optional: a store without them is simply not measured or compacted) ----

  /** How long each group commit took (the metrics endpoint reads it). */
  readonly commitTimes?: LatencyBuckets;
  /**
   * Gives the space of deleted rows back to the file system, in small steps that let the
   * server go on serving between them; resolves to the bytes given back.
   */
  reclaimSpace?(): Promise<number>;
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

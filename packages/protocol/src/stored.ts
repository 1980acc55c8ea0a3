/**
 * What the server's store keeps, row by row, independent of the engine (SQLite today). Every
 * row read back from disk is decoded against these before use: the store never casts what it
 * reads. The server's store owns the schema version and the migrations that bring older rows to
 * these shapes (apps/server/src/store/migrations.ts). An outcome's payload stays JSON text in the
 * store; {@link decodeStoredOutcome}, {@link storedValue} and {@link storedFailure} read it back.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { createDecoder } from './codec.js';
import { ErrorCode, TabgridError } from './errors.js';
import { JobState, TaskFailure, type Outcome } from './jobs.js';
import { Role } from './keys.js';
import { LogLevelSchema } from './task-reports.js';

const Count = Type.Integer({ minimum: 0 });
/** Epoch milliseconds. */
const EpochMs = Type.Number({ minimum: 0 });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * A job's record as schema version 2 wrote it (every field of that version present). Read only
 * by the migration that completes it to {@link StoredJobRecord}.
 *
 * @example
 * { "id": "…", "owner": "admin", "name": "squares", "group": null, "state": "open",
 *   "timeoutMs": 60000, "maxAttempts": 3, "retryErrors": 0, "redundancy": 1, "maxReplicas": 3,
 *   "disagreements": 0, "priority": 0, "total": 0, "finished": 0, "failed": 0, "computeMs": 0,
 *   "created": 1764547200000, "modified": 1764547200000, "lastResult": null, "lastSeq": 0,
 *   "paused": null, "crashedTasks": 0 }
 */
export const StoredJobRecordV2 = Type.Object({
  id: Type.String({ minLength: 1 }),
  owner: Type.String(),
  name: Type.String(),
  group: Nullable(Type.String()),
  state: JobState,
  timeoutMs: Type.Integer({ minimum: 1 }),
  maxAttempts: Type.Integer({ minimum: 1 }),
  retryErrors: Count,
  redundancy: Type.Integer({ minimum: 1 }),
  maxReplicas: Type.Integer({ minimum: 1 }),
  /** Tasks whose replicas disagreed at least once. */
  disagreements: Count,
  priority: Type.Integer(),
  total: Count,
  finished: Count,
  failed: Count,
  computeMs: Type.Number({ minimum: 0 }),
  created: EpochMs,
  modified: EpochMs,
  lastResult: Nullable(EpochMs),
  /** Highest `seq` assigned to a settled outcome (0 when none). */
  lastSeq: Count,
  /** Why dispatch is paused (its tasks kept killing tabs); null while it runs. */
  paused: Nullable(Type.String()),
  /** Tasks settled `lost` after crashing or losing their tab too often (pauses the job). */
  crashedTasks: Count,
});
export type StoredJobRecordV2 = Static<typeof StoredJobRecordV2>;

/** A job's Setup runs so far (every thread's, ok or not). */
export const StoredSetups = Type.Object({
  count: Count,
  totalMs: Type.Number({ minimum: 0 }),
  maxMs: Type.Number({ minimum: 0 }),
});
export type StoredSetups = Static<typeof StoredSetups>;

/**
 * A job's record as schema version 3 wrote it (everything after `crashedTasks` added by that
 * version). Read only by the migration that completes it to {@link StoredJobRecord}.
 *
 * @example
 * { …the fields of StoredJobRecordV2…, "setupTimeoutMs": 60000, "progressTimeoutMs": null,
 *   "setups": { "count": 0, "totalMs": 0, "maxMs": 0 }, "logSeq": 0, "logsDropped": 0,
 *   "eventSeq": 0, "eventsDropped": 0, "seriesBytes": 0, "seriesDropped": 0, "messageSeq": 0,
 *   "cpuMs": 0, "peakHeapBytes": null }
 */
export const StoredJobRecordV3 = Type.Object({
  ...StoredJobRecordV2.properties,
  /** Bounds one Setup call (the job's `timeoutMs` unless the job set it). */
  setupTimeoutMs: Type.Integer({ minimum: 1 }),
  /** A running task silent this long is stalled; null: off. */
  progressTimeoutMs: Nullable(Type.Integer({ minimum: 1 })),
  setups: StoredSetups,
  /** Highest `seq` of a stored log line (0 when none). */
  logSeq: Count,
  /** Log lines dropped over the caps (per task and per job). */
  logsDropped: Count,
  /** Highest `seq` of a stored event (0 when none). */
  eventSeq: Count,
  eventsDropped: Count,
  /** Bytes of series values stored (their JSON text), against the per-job limit. */
  seriesBytes: Count,
  /** Series values dropped over the limits. */
  seriesDropped: Count,
  /** Highest `seq` of a stored message (`job.tell`; 0 when none). */
  messageSeq: Count,
  /** CPU time the job's tasks used on workers, from their samples. */
  cpuMs: Type.Number({ minimum: 0 }),
  /** Highest JS heap a worker running the job reported; null where no browser exposed it. */
  peakHeapBytes: Nullable(Count),
});
export type StoredJobRecordV3 = Static<typeof StoredJobRecordV3>;

/** A SHA-256 digest in lowercase hex. */
const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });

/**
 * A job's durable record, without its program and args (those are written once, at creation).
 * Every field is present: migrations fill in what older releases did not write (schema version 3
 * added everything after `crashedTasks`, version 4 everything after `peakHeapBytes`).
 *
 * @example
 * { …the fields of StoredJobRecordV3…, "programHash": "9b71d2…", "maxFailures": null,
 *   "cancelReason": null }
 */
export const StoredJobRecord = Type.Object({
  ...StoredJobRecordV3.properties,
  /** SHA-256 (hex) of the program text, computed once (outcomes' provenance names it). */
  programHash: Sha256Hex,
  /** The job's `maxFailures` option; null: off. */
  maxFailures: Nullable(Type.Integer({ minimum: 1 })),
  /** Why the server cancelled the job itself (maxFailures); null otherwise. */
  cancelReason: Nullable(Type.String()),
});
export type StoredJobRecord = Static<typeof StoredJobRecord>;

/** The fields schema version 4 added. */
export type ProvenanceFields = Omit<StoredJobRecord, keyof StoredJobRecordV3>;

/**
 * {@link ProvenanceFields} of a job that was not stopped by the server: what a new job starts
 * with and what migration 4 gives every older job (`maxFailures` null: the option did not exist).
 */
export function uncancelledProvenanceFields(
  programHash: string,
  maxFailures: number | null,
): ProvenanceFields {
  return { programHash, maxFailures, cancelReason: null };
}

/** The fields schema version 3 added, as a job that has not used them yet has them. */
export type TaskModelFields = Omit<StoredJobRecordV3, keyof StoredJobRecordV2>;

/**
 * {@link TaskModelFields} of a job that never logged, collected, was told or sampled: what a new
 * job starts with and what migration 3 gives every older job.
 */
export function unusedTaskModelFields(
  setupTimeoutMs: number,
  progressTimeoutMs: number | null,
): TaskModelFields {
  return {
    setupTimeoutMs,
    progressTimeoutMs,
    setups: { count: 0, totalMs: 0, maxMs: 0 },
    logSeq: 0,
    logsDropped: 0,
    eventSeq: 0,
    eventsDropped: 0,
    seriesBytes: 0,
    seriesDropped: 0,
    messageSeq: 0,
    cpuMs: 0,
    peakHeapBytes: null,
  };
}

/**
 * A job record as releases up to 0.1.0 wrote it (schema versions 0 and 1): fields added over
 * time may be absent, and `computeMs` may be null (an Infinity from before reports were
 * clamped, which JSON writes as null). Read only by the migration that completes it.
 */
export const StoredJobRecordV0 = Type.Object({
  ...StoredJobRecordV2.properties,
  group: Type.Optional(Nullable(Type.String())),
  retryErrors: Type.Optional(Count),
  redundancy: Type.Optional(Type.Integer({ minimum: 1 })),
  maxReplicas: Type.Optional(Type.Integer({ minimum: 1 })),
  disagreements: Type.Optional(Count),
  computeMs: Nullable(Type.Number()),
  paused: Type.Optional(Nullable(Type.String())),
  crashedTasks: Type.Optional(Count),
});
export type StoredJobRecordV0 = Static<typeof StoredJobRecordV0>;

/** What a worker needs to run a job: the program text and the shared args as JSON text. */
export const StoredJobCode = Type.Object({
  program: Type.String(),
  argsJson: Type.String(),
});
export type StoredJobCode = Static<typeof StoredJobCode>;

/** Where a submitted batch of tasks starts, and how many it holds (idempotent submission). */
export const StoredBatch = Type.Object({
  firstIndex: Count,
  count: Count,
});
export type StoredBatch = Static<typeof StoredBatch>;

/**
 * A batch's task inputs, as single-line JSON texts joined by "\n", and when it was submitted
 * (schema version 4; null for batches stored before).
 */
export const StoredTaskBatch = Type.Object({
  firstIndex: Count,
  inputs: Type.String(),
  submittedAt: Nullable(EpochMs),
});
export type StoredTaskBatch = Static<typeof StoredTaskBatch>;

/** A settled task; `payload` is the value's JSON (ok) or a TaskFailure's JSON (not ok). */
export const StoredOutcome = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  index: Count,
  ok: Type.Boolean(),
  payload: Type.String(),
});
export type StoredOutcome = Static<typeof StoredOutcome>;

/** A failure as the error views read it (always `ok: false`, so no flag is stored). */
export const StoredFailureRow = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  index: Count,
  payload: Type.String(),
});
export type StoredFailureRow = Static<typeof StoredFailureRow>;

/**
 * A row of `outcome_batches` read with its provenance lines (schema version 4; null for rows
 * stored before): the server's store decodes both line by line.
 */
export const StoredOutcomeLinesRow = Type.Object({
  lines: Type.String(),
  provenance: Nullable(Type.String()),
});
export type StoredOutcomeLinesRow = Static<typeof StoredOutcomeLinesRow>;

/** A failure read with its provenance line (schema version 4; null before). */
export const StoredFailureProvenanceRow = Type.Object({
  ...StoredFailureRow.properties,
  provenance: Nullable(Type.String()),
});
export type StoredFailureProvenanceRow = Static<typeof StoredFailureProvenanceRow>;

/** One group of the error view: the failures' message (null when it has none), how many, the newest. */
export const StoredErrorGroupRow = Type.Object({
  message: Nullable(Type.String()),
  count: Type.Integer({ minimum: 1 }),
  seq: Type.Integer({ minimum: 1 }),
});
export type StoredErrorGroupRow = Static<typeof StoredErrorGroupRow>;

/**
 * How often a task has failed so far without settling: `attempts` lost or timed out,
 * `errorRetries` granted after Run threw. Saved so a restart grants no fresh allowance.
 */
export const StoredTries = Type.Object({
  index: Count,
  attempts: Count,
  errorRetries: Count,
});
export type StoredTries = Static<typeof StoredTries>;

/** An API key as stored; only a hash of its secret. */
export const StoredKey = Type.Object({
  id: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  role: Role,
  /** For a viewer: whose jobs it reads (null: all). */
  owner: Nullable(Type.String()),
  created: EpochMs,
  /**
   * The secret's stored form: `hmac-sha256:<hex>`, or for keys created before that, the plain
   * SHA-256 hex.
   */
  secretHash: Type.String({ minLength: 1 }),
});
export type StoredKey = Static<typeof StoredKey>;

/** A positive per-job sequence number (log lines, events, messages, outcomes). */
const Seq = Type.Integer({ minimum: 1 });

/**
 * A row of `job_logs`, `job_events` or `series_batches`: one append's lines joined by "\n", the
 * first of them at `firstSeq` (decoded line by line by the server's store).
 */
export const StoredLinesRow = Type.Object({
  firstSeq: Seq,
  lines: Type.String(),
});
export type StoredLinesRow = Static<typeof StoredLinesRow>;

/**
 * One log line as `job_logs` keeps it: JSON text, one per line of a row, its `seq` implied by its
 * place (the row's first seq + its position). `index` is null for lines of Setup, Teardown or the
 * server; `count` how many identical lines in a row it stands for; `at` epoch milliseconds.
 *
 * @example
 * { "index": 4, "level": "warn", "message": "slow pixel", "count": 50, "workerId": "w-1", "at": 1764547200000 }
 */
export const StoredLogLine = Type.Object({
  index: Nullable(Count),
  level: LogLevelSchema,
  message: Type.String(),
  count: Type.Integer({ minimum: 1 }),
  workerId: Type.String(),
  at: EpochMs,
});
export type StoredLogLine = Static<typeof StoredLogLine>;

/** A log line read back, with its seq. */
export const StoredLogRow = Type.Object({ seq: Seq, ...StoredLogLine.properties });
export type StoredLogRow = Static<typeof StoredLogRow>;

/**
 * One event (`tabgrid.emit`) as `job_events` keeps it: JSON text, one per line, like log lines.
 * `data` is the JSON value job code emitted (bytes in their tagged text form).
 *
 * @example
 * { "index": null, "name": "loaded", "data": { "rows": 3 }, "at": 1764547200000 }
 */
export const StoredEventLine = Type.Object({
  index: Nullable(Count),
  name: Type.String({ minLength: 1 }),
  data: Type.Unknown(),
  at: EpochMs,
});
export type StoredEventLine = Static<typeof StoredEventLine>;

/** An event read back, with its seq. */
export const StoredEventRow = Type.Object({ seq: Seq, ...StoredEventLine.properties });
export type StoredEventRow = Static<typeof StoredEventRow>;

/**
 * What one settled task collected under one label: `seq` is the task's outcome seq, `values` the
 * JSON text of the values array (bytes in their tagged text form), never re-parsed by the store.
 */
export const StoredSeriesRow = Type.Object({
  seq: Seq,
  index: Count,
  values: Type.String(),
});
export type StoredSeriesRow = Static<typeof StoredSeriesRow>;

/** A message to a job's threads (`job.tell`): `data` is its JSON text; `messageId` makes a resend idempotent. */
export const StoredMessage = Type.Object({
  seq: Seq,
  messageId: Type.String({ minLength: 1 }),
  data: Type.String(),
  at: EpochMs,
});
export type StoredMessage = Static<typeof StoredMessage>;

/** A note on the dashboard's charts (`tg.note`), kept per owner. */
export const StoredNote = Type.Object({
  owner: Type.String(),
  at: EpochMs,
  text: Type.String(),
});
export type StoredNote = Static<typeof StoredNote>;

const decodeFailure = createDecoder(TaskFailure, 'stored task failure');

/** The payload's value; throws a plain Error saying what is wrong (callers say where). */
function parsePayload(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    throw new Error(`its payload is not JSON: ${JSON.stringify(payload.slice(0, 40))}`);
  }
}

const problem = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function unreadable(what: string, err: unknown): TabgridError {
  return new TabgridError(
    ErrorCode.INTERNAL,
    `${what} could not be read back (${problem(err)}): report it to the operator.`,
  );
}

/**
 * The value of a stored ok outcome. Throws TG_ERR_INTERNAL when the payload is not JSON.
 *
 * @example
 * storedValue('{"k":[1]}'); // { k: [1] }
 */
export function storedValue(payload: string): unknown {
  try {
    return parsePayload(payload);
  } catch (err) {
    throw unreadable('A stored result', err);
  }
}

/**
 * The TaskFailure of a stored failed outcome, decoded. Throws TG_ERR_INTERNAL when it is none.
 *
 * @example
 * storedFailure('{"name":"Error","message":"m","stack":"","type":"program"}').type; // 'program'
 */
export function storedFailure(payload: string): TaskFailure {
  try {
    return decodeFailure(parsePayload(payload));
  } catch (err) {
    throw unreadable('A stored task failure', err);
  }
}

/**
 * A stored outcome as streams deliver it (value parsed, failure decoded). Throws TG_ERR_INTERNAL,
 * naming the task and seq, when its payload does not decode.
 *
 * @example
 * decodeStoredOutcome({ seq: 3, index: 1, ok: true, payload: '5' }); // { seq: 3, index: 1, ok: true, value: 5 }
 */
export function decodeStoredOutcome(row: StoredOutcome): Outcome {
  try {
    return row.ok
      ? { seq: row.seq, index: row.index, ok: true, value: parsePayload(row.payload) }
      : {
          seq: row.seq,
          index: row.index,
          ok: false,
          error: decodeFailure(parsePayload(row.payload)),
        };
  } catch (err) {
    throw new TabgridError(
      ErrorCode.INTERNAL,
      `The stored outcome of task ${row.index} (seq ${row.seq}) could not be read back: ${problem(err)}. Read from seq ${row.seq} on to skip it, or report it to the operator.`,
    );
  }
}

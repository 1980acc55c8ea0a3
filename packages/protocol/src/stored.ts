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
import { unpackValue, type CarriedValue } from './packed-value.js';

const Count = Type.Integer({ minimum: 0 });
/** Epoch milliseconds. */
const EpochMs = Type.Number({ minimum: 0 });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export {
  StoredJobRecord,
  StoredJobRecordV0,
  StoredJobRecordV2,
  StoredJobRecordV3,
  StoredSetups,
  uncancelledProvenanceFields,
  unusedTaskModelFields,
  type ProvenanceFields,
  type TaskModelFields,
} from './stored-job-records.js';

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
  /**
   * Schema version 5: the batch's packed inputs (values holding typed arrays, see
   * ./packed-value.ts), one after another, each after its uint32 length; an input whose line
   * is `*` is the next of them. Null when the batch has none (and for batches stored before).
   */
  inputBytes: Type.Optional(Nullable(Type.Uint8Array())),
});
export type StoredTaskBatch = Static<typeof StoredTaskBatch>;

/**
 * A settled task; `payload` is the value's JSON (ok) or a TaskFailure's JSON (not ok). An ok
 * value holding typed arrays is packed (a Uint8Array, see ./packed-value.ts) from schema 5 on.
 */
export const StoredOutcome = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  index: Count,
  ok: Type.Boolean(),
  payload: Type.Union([Type.String(), Type.Uint8Array()]),
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
  /** Schema version 5: the row's packed payloads, as `StoredTaskBatch.inputBytes` holds inputs. */
  payloadBytes: Type.Optional(Nullable(Type.Uint8Array())),
});
export type StoredOutcomeLinesRow = Static<typeof StoredOutcomeLinesRow>;

/** A row of `outcome_batches` as the plain reads select it (schema version 5). */
export const StoredOutcomeBatchRow = Type.Object({
  lines: Type.String(),
  payloadBytes: Nullable(Type.Uint8Array()),
});
export type StoredOutcomeBatchRow = Static<typeof StoredOutcomeBatchRow>;

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

/**
 * A job's counters and state as the columns of several nodes' database hold them (issue 15):
 * every node's copy of the job follows these, whatever the record it last read says.
 */
export const StoredJobTally = Type.Object({
  state: JobState,
  total: Count,
  finished: Count,
  failed: Count,
  /** Highest seq given to an outcome (seqs of duplicates that lost are skipped). */
  lastSeq: Count,
  cancelReason: Nullable(Type.String()),
});
export type StoredJobTally = Static<typeof StoredJobTally>;

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

/**
 * The payload's value (a packed one with socket-form tags viewing it, see ./packed-value.ts);
 * throws a plain Error saying what is wrong (callers say where).
 */
function parsePayload(payload: CarriedValue): unknown {
  if (typeof payload !== 'string') return unpackValue(payload);
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
 * The value of a stored ok outcome (a packed one's typed arrays as socket-form tags viewing its
 * bytes: push it on socket.io as is, or `toTextForm` it for JSON). Throws TG_ERR_INTERNAL when
 * the payload does not decode.
 *
 * @example
 * storedValue('{"k":[1]}'); // { k: [1] }
 */
export function storedValue(payload: CarriedValue): unknown {
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
export function storedFailure(payload: CarriedValue): TaskFailure {
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

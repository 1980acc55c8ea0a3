/**
 * A job's durable record as the server's store keeps it (the `jobs.record` column), at every
 * schema version a release wrote, so the migrations can read each one back and complete it
 * (apps/server/src/store/migrations.ts). Re-exported by ./stored.ts, with the other rows.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { JobState } from './jobs.js';
import { JobPublic, JobRequirements } from './volunteer.js';

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
  // Issue 16: optional, so every older record decodes as it is (no migration).
  /** The job's `public` option (what volunteers' pages show). */
  public: Type.Optional(JobPublic),
  /** The job's `requirements` option (which tabs may run it). */
  requirements: Type.Optional(JobRequirements),
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

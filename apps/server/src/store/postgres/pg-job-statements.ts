/** The job store's longer statements, and the columns its settle sends them. */
import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import type { CarriedValue, StoredOutcome } from '../job-store.js';
import { errorGroupKey, errorMessage } from '../error-message.js';
import { PACKED_MARK } from '../packed-column.js';

/** Outcome columns as decodeOutcomeRow reads them (payload_bytes: a packed value's, version 3). */
export const OUTCOME_COLUMNS = 'seq, idx AS "index", ok, payload, payload_bytes AS "payloadBytes"';
/** A task's input columns as decodeQueuedRow and decodeTaskInputRow read them. */
export const TASK_INPUT = 'input, input_bytes AS "inputBytes"';
export const PROVENANCE_COLUMNS =
  'worker_id AS "workerId", attempt, run_ms AS "runMs", queued_ms AS "queuedMs"';

/** Which outcomes of a kind a read selects. */
export const KIND_FILTER: Record<OutcomeKind, string> = {
  all: '',
  results: 'AND ok',
  errors: 'AND NOT ok',
};

/** A task not settled yet: no outcome holds its (job, index). */
export const UNSETTLED =
  'NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.job_id = t.job_id AND o.idx = t.idx)';

export const INSERT_BATCH = `WITH batch AS (
    INSERT INTO task_batches (job_id, first_index, count, batch_id) VALUES ($1, $2, $3, $4)
    ON CONFLICT DO NOTHING RETURNING first_index)
  INSERT INTO tasks (job_id, idx, input, submitted_at, input_bytes)
  SELECT $1, batch.first_index + t.ord::integer - 1, t.input, $6, t.input_bytes
  FROM batch, unnest($5::text[], $7::bytea[]) WITH ORDINALITY AS t(input, input_bytes, ord)
  ON CONFLICT DO NOTHING`;

/*
 * The first outcome for (job, index) wins here, whichever node stores it: a duplicate (settled
 * before, or twice in this call) inserts nothing, and RETURNING names the seqs that went in.
 */
export const INSERT_OUTCOMES = `INSERT INTO outcomes
    (job_id, idx, seq, ok, payload, error_key, worker_id, attempt, run_ms, queued_ms, payload_bytes)
  SELECT o.job_id, o.idx, o.seq, o.ok, o.payload, o.error_key, o.worker_id, o.attempt, o.run_ms, o.queued_ms, o.payload_bytes
  FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::boolean[], $5::text[], $6::text[],
              $7::text[], $8::integer[], $9::double precision[], $10::double precision[], $11::bytea[])
    WITH ORDINALITY AS o(job_id, idx, seq, ok, payload, error_key, worker_id, attempt, run_ms, queued_ms, payload_bytes, ord)
  ORDER BY o.ord
  ON CONFLICT DO NOTHING
  RETURNING job_id AS "jobId", seq`;

export const DELETE_JOB = `WITH
    b AS (DELETE FROM task_batches WHERE job_id = $1),
    t AS (DELETE FROM tasks WHERE job_id = $1),
    o AS (DELETE FROM outcomes WHERE job_id = $1),
    r AS (DELETE FROM task_tries WHERE job_id = $1),
    l AS (DELETE FROM job_logs WHERE job_id = $1),
    e AS (DELETE FROM job_events WHERE job_id = $1),
    s AS (DELETE FROM series_batches WHERE job_id = $1),
    sl AS (DELETE FROM series_labels WHERE job_id = $1),
    m AS (DELETE FROM job_messages WHERE job_id = $1)
  DELETE FROM jobs WHERE id = $1`;

/** The columns of INSERT_OUTCOMES ($1 … $11), filled by {@link addOutcomes}. */
export interface OutcomeColumns {
  job: string[];
  idx: number[];
  seq: number[];
  ok: boolean[];
  payload: string[];
  /** A packed payload's bytes (its `payload` the mark), else null. */
  payloadBytes: (Uint8Array | null)[];
  errorKey: (string | null)[];
  worker: (string | null)[];
  attempt: (number | null)[];
  runMs: (number | null)[];
  queuedMs: (number | null)[];
}

export function outcomeColumns(): OutcomeColumns {
  return {
    job: [],
    idx: [],
    seq: [],
    ok: [],
    payload: [],
    payloadBytes: [],
    errorKey: [],
    worker: [],
    attempt: [],
    runMs: [],
    queuedMs: [],
  };
}

/** The parameters of INSERT_OUTCOMES. */
export function outcomeValues(c: OutcomeColumns): unknown[] {
  return [
    c.job,
    c.idx,
    c.seq,
    c.ok,
    c.payload,
    c.errorKey,
    c.worker,
    c.attempt,
    c.runMs,
    c.queuedMs,
    c.payloadBytes,
  ];
}

/**
 * A value's two columns (version 3): its text, a packed value's (typed arrays) the mark, and its
 * raw bytes in the bytea column beside (null for a text value). As PACKED_MARK's rows in SQLite.
 */
export function packedCells(value: CarriedValue): [text: string, bytes: Uint8Array | null] {
  return typeof value === 'string' ? [value, null] : [PACKED_MARK, value];
}

/** Adds the job's outcomes to `c` (copied: what they were at the settle call is what commits). */
export function addOutcomes(
  c: OutcomeColumns,
  jobId: string,
  outcomes: readonly StoredOutcome[],
): void {
  for (const o of outcomes) {
    c.job.push(jobId);
    c.idx.push(o.index);
    c.seq.push(o.seq);
    c.ok.push(o.ok);
    const [text, bytes] = packedCells(o.payload);
    c.payload.push(text);
    c.payloadBytes.push(bytes);
    c.errorKey.push(o.ok ? null : errorGroupKey(errorMessage(o.payload)));
    const p = o.provenance;
    c.worker.push(p?.workerId ?? null);
    c.attempt.push(p === undefined ? null : p.attempt);
    // The precision SQLite keeps (provenance-lines.ts): microseconds of run, milliseconds queued.
    c.runMs.push(p === undefined || p.runMs === null ? null : Math.round(p.runMs * 1000) / 1000);
    c.queuedMs.push(p === undefined || p.queuedMs === null ? null : Math.round(p.queuedMs));
  }
}

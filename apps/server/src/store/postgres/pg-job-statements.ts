/** The job store's longer statements, and the columns its settle sends them. */
import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import type { StoredOutcome } from '../job-store.js';
import { errorGroupKey, errorMessage } from '../error-message.js';

export const OUTCOME_COLUMNS = 'seq, idx AS "index", ok, payload';
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
  INSERT INTO tasks (job_id, idx, input, submitted_at)
  SELECT $1, batch.first_index + t.ord::integer - 1, t.input, $6
  FROM batch, unnest($5::text[]) WITH ORDINALITY AS t(input, ord)
  ON CONFLICT DO NOTHING`;

/*
 * The first outcome for (job, index) wins here, whichever node stores it: a duplicate (settled
 * before, or twice in this call) inserts nothing, and RETURNING names the seqs that went in.
 */
export const INSERT_OUTCOMES = `INSERT INTO outcomes
    (job_id, idx, seq, ok, payload, error_key, worker_id, attempt, run_ms, queued_ms)
  SELECT $1, o.idx, o.seq, o.ok, o.payload, o.error_key, o.worker_id, o.attempt, o.run_ms, o.queued_ms
  FROM unnest($2::integer[], $3::bigint[], $4::boolean[], $5::text[], $6::text[], $7::text[],
              $8::integer[], $9::double precision[], $10::double precision[])
    WITH ORDINALITY AS o(idx, seq, ok, payload, error_key, worker_id, attempt, run_ms, queued_ms, ord)
  ORDER BY o.ord
  ON CONFLICT DO NOTHING
  RETURNING seq`;

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

/** `outcomes` as the columns of INSERT_OUTCOMES ($2 … $10). */
export function outcomeColumns(outcomes: readonly StoredOutcome[]): unknown[][] {
  const idx: number[] = [];
  const seq: number[] = [];
  const ok: boolean[] = [];
  const payload: string[] = [];
  const errorKey: (string | null)[] = [];
  const worker: (string | null)[] = [];
  const attempt: (number | null)[] = [];
  const runMs: (number | null)[] = [];
  const queuedMs: (number | null)[] = [];
  for (const o of outcomes) {
    idx.push(o.index);
    seq.push(o.seq);
    ok.push(o.ok);
    payload.push(o.payload);
    errorKey.push(o.ok ? null : errorGroupKey(errorMessage(o.payload)));
    const p = o.provenance;
    worker.push(p?.workerId ?? null);
    attempt.push(p === undefined ? null : p.attempt);
    // The precision SQLite keeps (provenance-lines.ts): microseconds of run, milliseconds queued.
    runMs.push(p === undefined || p.runMs === null ? null : Math.round(p.runMs * 1000) / 1000);
    queuedMs.push(p === undefined || p.queuedMs === null ? null : Math.round(p.queuedMs));
  }
  return [idx, seq, ok, payload, errorKey, worker, attempt, runMs, queuedMs];
}

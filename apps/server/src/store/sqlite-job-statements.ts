import type Database from 'better-sqlite3';
import { ERROR_GROUP_SQL_FUNCTION, errorGroupKey } from './error-message.js';

type Statement = Database.Statement<unknown[], unknown>;

/** The job store's statements, by what they do. */
export interface JobStatements {
  readonly insertJob: Statement;
  readonly updateJob: Statement;
  readonly insertBatch: Statement;
  readonly insertOutcomes: Statement;
  readonly insertError: Statement;
  readonly allOutcomeLines: Statement;
  readonly deleteJob: Statement;
  readonly deleteBatches: Statement;
  readonly deleteOutcomes: Statement;
  readonly deleteErrors: Statement;
  readonly saveTries: Statement;
  readonly tries: Statement;
  readonly deleteTries: Statement;
  readonly listJobs: Statement;
  readonly jobCode: Statement;
  readonly findBatch: Statement;
  readonly batchStart: Statement;
  readonly batchesFrom: Statement;
  readonly batchAt: Statement;
  readonly outcomeStart: Statement;
  readonly outcomesFrom: Statement;
  readonly outcomesNewestFirst: Statement;
  readonly outcomesWithProvenanceFrom: Statement;
  readonly errors: Statement;
  readonly errorsWithProvenance: Statement;
  readonly errorGroups: Statement;
  readonly errorBySeq: Statement;
}

/** Prepares the job store's statements; the columns are aliased to the protocol's stored shapes. */
export function prepareJobStatements(db: Database.Database): JobStatements {
  // Errors group by their message with its numbers masked, as the memory store groups them.
  db.function(ERROR_GROUP_SQL_FUNCTION, { deterministic: true }, (message: unknown) =>
    typeof message === 'string' ? errorGroupKey(message) : message,
  );
  const errorColumns = 'seq, idx AS "index", payload';
  return {
    // name and created: the record's, copied once (they never change) for jobs_by_name.
    insertJob: db.prepare(
      'INSERT INTO jobs (id, owner, program, args, record, name, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    updateJob: db.prepare('UPDATE jobs SET record = ? WHERE id = ?'),
    insertBatch: db.prepare(
      'INSERT OR IGNORE INTO task_batches (job_id, first_index, count, batch_id, inputs, submitted_at, input_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    insertOutcomes: db.prepare(
      'INSERT INTO outcome_batches (job_id, first_seq, lines, provenance, payload_bytes) VALUES (?, ?, ?, ?, ?)',
    ),
    insertError: db.prepare(
      'INSERT INTO outcome_errors (job_id, seq, idx, payload, provenance) VALUES (?, ?, ?, ?, ?)',
    ),
    allOutcomeLines: db.prepare('SELECT lines FROM outcome_batches WHERE job_id = ?').pluck(),
    deleteJob: db.prepare('DELETE FROM jobs WHERE id = ?'),
    deleteBatches: db.prepare('DELETE FROM task_batches WHERE job_id = ?'),
    deleteOutcomes: db.prepare('DELETE FROM outcome_batches WHERE job_id = ?'),
    deleteErrors: db.prepare('DELETE FROM outcome_errors WHERE job_id = ?'),
    saveTries: db.prepare(
      'INSERT OR REPLACE INTO task_tries (job_id, idx, attempts, error_retries) VALUES (?, ?, ?, ?)',
    ),
    tries: db.prepare(
      'SELECT idx AS "index", attempts, error_retries AS errorRetries FROM task_tries WHERE job_id = ?',
    ),
    deleteTries: db.prepare('DELETE FROM task_tries WHERE job_id = ?'),
    listJobs: db.prepare('SELECT record FROM jobs').pluck(),
    jobCode: db.prepare('SELECT program, args AS argsJson FROM jobs WHERE id = ?'),
    findBatch: db.prepare(
      'SELECT first_index AS firstIndex, count FROM task_batches WHERE job_id = ? AND batch_id = ?',
    ),
    batchStart: db
      .prepare(
        'SELECT first_index FROM task_batches WHERE job_id = ? AND first_index <= ? ORDER BY first_index DESC LIMIT 1',
      )
      .pluck(),
    batchesFrom: db.prepare(
      'SELECT first_index AS firstIndex, inputs, submitted_at AS submittedAt, input_bytes AS inputBytes FROM task_batches WHERE job_id = ? AND first_index >= ? ORDER BY first_index',
    ),
    batchAt: db.prepare(
      'SELECT first_index AS firstIndex, inputs, submitted_at AS submittedAt, input_bytes AS inputBytes FROM task_batches WHERE job_id = ? AND first_index <= ? ORDER BY first_index DESC LIMIT 1',
    ),
    outcomeStart: db
      .prepare(
        'SELECT first_seq FROM outcome_batches WHERE job_id = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1',
      )
      .pluck(),
    // Packed payloads (schema 5) beside the lines; NULL (nothing read) for rows without any.
    outcomesFrom: db.prepare(
      'SELECT lines, payload_bytes AS payloadBytes FROM outcome_batches WHERE job_id = ? AND first_seq >= ? ORDER BY first_seq',
    ),
    outcomesNewestFirst: db.prepare(
      'SELECT lines, payload_bytes AS payloadBytes FROM outcome_batches WHERE job_id = ? ORDER BY first_seq DESC',
    ),
    // Provenance (schema version 4) is selected only by the reads that ask for it.
    outcomesWithProvenanceFrom: db.prepare(
      'SELECT lines, provenance, payload_bytes AS payloadBytes FROM outcome_batches WHERE job_id = ? AND first_seq >= ? ORDER BY first_seq',
    ),
    errors: db.prepare(
      `SELECT ${errorColumns} FROM outcome_errors WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    errorsWithProvenance: db.prepare(
      `SELECT ${errorColumns}, provenance FROM outcome_errors WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    errorGroups: db.prepare(
      `SELECT ${ERROR_GROUP_SQL_FUNCTION}(json_extract(payload, '$.message')) AS message,
         count(*) AS count, max(seq) AS seq
       FROM outcome_errors WHERE job_id = ? GROUP BY message ORDER BY count DESC, message LIMIT ?`,
    ),
    errorBySeq: db.prepare(
      `SELECT ${errorColumns} FROM outcome_errors WHERE job_id = ? AND seq = ?`,
    ),
  };
}

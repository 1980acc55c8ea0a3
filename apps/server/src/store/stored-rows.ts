/**
 * One decoder per stored table: every row read back from disk goes through one of these before
 * use, so a damaged or foreign row fails loudly (TG_ERR_INTERNAL, saying what to do) instead of
 * flowing on as a lie about its type. The schemas live in @tabgrid/protocol/stored.
 */
import { createDecoder, createTextDecoder } from '@tabgrid/protocol/codec';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import {
  StoredBatch,
  StoredErrorGroupRow,
  StoredJobCode,
  StoredFailureProvenanceRow,
  StoredFailureRow,
  StoredJobRecord,
  StoredJobRecordV0,
  StoredJobRecordV2,
  StoredJobRecordV3,
  StoredOutcomeLinesRow,
  StoredOutcomeBatchRow,
  StoredKey,
  StoredLinesRow,
  StoredMessage,
  StoredNote,
  StoredTaskBatch,
  StoredTries,
} from '@tabgrid/protocol/stored';

/** The error for a row that does not decode: what is wrong, and what the operator can do. */
export function corruptRow(table: string, problem: string): TabgridError {
  return new TabgridError(
    ErrorCode.INTERNAL,
    `The store holds a row of ${table} this server cannot read (${problem}). Restore the data directory (TABGRID_DATA_DIR) from a backup, or move it aside to start with an empty one.`,
  );
}

/** `decode`, with its failure turned into {@link corruptRow}'s error. */
export function forTable<T>(table: string, decode: (row: unknown) => T): (row: unknown) => T {
  return (row) => {
    try {
      return decode(row);
    } catch (err) {
      throw corruptRow(table, err instanceof Error ? err.message : String(err));
    }
  };
}

/** `jobs.record`: a job's record, JSON text (schema version ≥ 2: every field present). */
export const decodeJobRecord = forTable('jobs', createTextDecoder(StoredJobRecord, 'row of jobs'));
/** `jobs.record` as versions 0 and 1 wrote it; only the migration that completes it reads this. */
export const decodeJobRecordV0 = forTable(
  'jobs',
  createTextDecoder(StoredJobRecordV0, 'row of jobs'),
);
/** `jobs.record` as version 2 wrote it; only the migration that completes it reads this. */
export const decodeJobRecordV2 = forTable(
  'jobs',
  createTextDecoder(StoredJobRecordV2, 'row of jobs'),
);
/** `jobs.record` as version 3 wrote it; only the migration that completes it reads this. */
export const decodeJobRecordV3 = forTable(
  'jobs',
  createTextDecoder(StoredJobRecordV3, 'row of jobs'),
);
/** `outcome_batches` (lines, provenance), for reads with provenance. */
export const decodeOutcomeLinesRow = forTable(
  'outcome_batches',
  createDecoder(StoredOutcomeLinesRow, 'row of outcome_batches'),
);
/** `outcome_batches` (lines, payload_bytes AS payloadBytes), the plain reads. */
export const decodeOutcomeRow = forTable(
  'outcome_batches',
  createDecoder(StoredOutcomeBatchRow, 'row of outcome_batches'),
);
/** `outcome_errors` (seq, idx AS "index", payload, provenance), for reads with provenance. */
export const decodeFailureProvenanceRow = forTable(
  'outcome_errors',
  createDecoder(StoredFailureProvenanceRow, 'row of outcome_errors'),
);
/** `jobs` (program, args AS argsJson). */
export const decodeJobCode = forTable('jobs', createDecoder(StoredJobCode, 'row of jobs'));
/** `task_batches` (first_index AS firstIndex, count). */
export const decodeBatch = forTable(
  'task_batches',
  createDecoder(StoredBatch, 'row of task_batches'),
);
/** `task_batches` (first_index AS firstIndex, inputs): one row per batch, not per task. */
export const decodeTaskBatch = forTable(
  'task_batches',
  createDecoder(StoredTaskBatch, 'row of task_batches'),
);
/** `outcome_errors` (seq, idx AS index, payload). */
export const decodeFailureRow = forTable(
  'outcome_errors',
  createDecoder(StoredFailureRow, 'row of outcome_errors'),
);
/** `outcome_errors` grouped by message. */
export const decodeErrorGroupRow = forTable(
  'outcome_errors',
  createDecoder(StoredErrorGroupRow, 'row of outcome_errors'),
);
/** `task_tries` (idx AS index, attempts, error_retries AS errorRetries). */
export const decodeTries = forTable('task_tries', createDecoder(StoredTries, 'row of task_tries'));
/** `job_logs` (first_seq AS firstSeq, lines): one row per append, not per line. */
export const decodeLogsRow = forTable('job_logs', createDecoder(StoredLinesRow, 'row of job_logs'));
/** `job_events` (first_seq AS firstSeq, lines). */
export const decodeEventsRow = forTable(
  'job_events',
  createDecoder(StoredLinesRow, 'row of job_events'),
);
/** `series_batches` (first_seq AS firstSeq, lines). */
export const decodeSeriesRow = forTable(
  'series_batches',
  createDecoder(StoredLinesRow, 'row of series_batches'),
);
/** `job_messages` (seq, message_id AS messageId, data, at). */
export const decodeMessage = forTable(
  'job_messages',
  createDecoder(StoredMessage, 'row of job_messages'),
);
/** `notes` (owner, at, text). */
export const decodeNote = forTable('notes', createDecoder(StoredNote, 'row of notes'));
/** `api_keys` (…, secret_hash AS secretHash). */
export const decodeKey = forTable('api_keys', createDecoder(StoredKey, 'row of api_keys'));

/** A plucked TEXT column (`outcome_batches.lines`, …). Cheap: one typeof per row. */
export function decodeText(value: unknown, table: string): string {
  if (typeof value === 'string') return value;
  throw corruptRow(table, `expected text, found ${typeof value}`);
}

/** A plucked INTEGER column that may find no row (`first_index`, `first_seq`). */
export function decodeOptionalCount(value: unknown, table: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw corruptRow(table, `expected a count, found ${typeof value}`);
}

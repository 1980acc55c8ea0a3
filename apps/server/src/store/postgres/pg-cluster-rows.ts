/**
 * The rows several nodes' statements read back (./pg-cluster.ts): each decoded, naming its
 * table when it does not (a damaged or foreign row fails loudly, never flows on as a lie).
 */
import { Type } from '@sinclair/typebox';
import { createDecoder } from '@tabgrid/protocol/codec';
import { StoredJobTally } from '@tabgrid/protocol/stored';
import type { JobRecord } from '../job-store.js';
import { decodeJobRecord, decodeText, forTable } from '../stored-rows.js';

const Count = Type.Integer({ minimum: 0 });

export type JobTally = StoredJobTally;

/** The columns of a `jobs` row that make its tally, as `SELECT … ${TALLY}`. */
export const TALLY = `state, total, finished, failed, next_seq - 1 AS "lastSeq", cancel_reason AS "cancelReason"`;

export const decodeTally: (row: unknown) => JobTally = forTable(
  'jobs',
  createDecoder(StoredJobTally, 'row of jobs'),
);

/** A job's record with its tally over the record's own counters (the columns are the truth). */
export function recordFromRow(row: unknown): JobRecord {
  const text = typeof row === 'object' && row !== null && 'record' in row ? row.record : undefined;
  const record = decodeJobRecord(decodeText(text, 'jobs'));
  return withTally(record, decodeTally(row));
}

export function withTally(record: JobRecord, t: JobTally): JobRecord {
  record.state = t.state;
  record.total = t.total;
  record.finished = t.finished;
  record.failed = t.failed;
  record.lastSeq = t.lastSeq;
  record.cancelReason = t.cancelReason;
  if (t.state === 'done' || t.state === 'cancelled') record.paused = null;
  return record;
}

/** A claim taken back: the node that stopped renewing it, its job, and its unsettled tasks. */
export interface TakenBack {
  node: string;
  jobId: string;
  tasks: number;
}

/** Another node as its last heartbeat described it. */
export interface NodeRow {
  id: string;
  seenAt: number;
  /** What the node published (JSON text, decoded by its reader). */
  workers: string;
}

/** A job row for the nodes' sync: its record (tally applied) and its position of creation. */
export interface SyncedJob {
  pos: number;
  record: JobRecord;
}

export const decodeFirst = forTable(
  'jobs',
  createDecoder(Type.Object({ first: Type.Integer({ minimum: 0 }) }), 'row of jobs'),
);
export const decodeId = forTable(
  'claims',
  createDecoder(Type.Object({ id: Type.Integer({ minimum: 1 }) }), 'row of claims'),
);
export const decodeTakenBack = forTable(
  'claims',
  createDecoder(
    Type.Object({ node: Type.String(), jobId: Type.String(), tasks: Count }),
    'row of claims',
  ),
);
export const decodeTriesRow = forTable(
  'task_tries',
  createDecoder(
    Type.Object({ index: Count, attempts: Count, errorRetries: Count }),
    'row of task_tries',
  ),
);
export const decodeInserted = forTable(
  'outcomes',
  createDecoder(
    Type.Object({
      jobId: Type.String(),
      index: Count,
      seq: Type.Integer({ minimum: 1 }),
      ok: Type.Boolean(),
    }),
    'row of outcomes',
  ),
);
export const decodeNodeRow = forTable(
  'nodes',
  createDecoder(
    Type.Object({ id: Type.String(), seenAt: Type.Number(), workers: Type.String() }),
    'row of nodes',
  ),
);
export const decodePos = forTable(
  'jobs',
  createDecoder(Type.Object({ pos: Type.Integer({ minimum: 1 }) }), 'row of jobs'),
);

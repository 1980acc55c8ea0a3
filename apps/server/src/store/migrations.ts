/**
 * The SQLite schema's versions (`PRAGMA user_version`) and the forward migrations between them.
 * Every open runs the migrations the file has not had, in order, each once, in one transaction:
 * a crash mid-way leaves the file at its old version, to be migrated again on the next open. A
 * file newer than this code is refused (an older server must not misread rows it does not know).
 *
 * To change the schema: append a migration with the next version; never edit a released one.
 */
import type Database from 'better-sqlite3';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import {
  uncancelledProvenanceFields,
  unusedTaskModelFields,
  type StoredJobRecord,
  type StoredJobRecordV0,
  type StoredJobRecordV2,
  type StoredJobRecordV3,
} from '@tabgrid/protocol/stored';
import { programHash } from './program-hash.js';
import {
  decodeJobCode,
  decodeJobRecordV0,
  decodeJobRecordV2,
  decodeJobRecordV3,
  decodeText,
} from './stored-rows.js';

interface Migration {
  /** The version the file has after this migration. */
  version: number;
  what: string;
  up(db: Database.Database): void;
}

/*
 * Release 0.1.0's tables, which it created on every open without recording a version (its files
 * read user_version 0). Tasks are stored one row per submitted batch, their inputs joined by
 * "\n" (every input is single-line JSON text): appending 1,000 tasks is one insert. Outcomes
 * are stored the same way: one row per settle call, holding lines "seq,index,ok,payload" in seq
 * order (./outcome-lines.ts); failures are also kept one row each in `outcome_errors`, for the
 * error views. Which tasks are settled is derived from the outcomes, so settling a task never
 * rewrites its task row.
 */
const TABLES_0_1_0 = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  program TEXT NOT NULL,
  args TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS task_batches (
  job_id TEXT NOT NULL,
  first_index INTEGER NOT NULL,
  count INTEGER NOT NULL,
  batch_id TEXT NOT NULL,
  inputs TEXT NOT NULL,
  PRIMARY KEY (job_id, first_index)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS task_batches_by_id ON task_batches (job_id, batch_id);
CREATE TABLE IF NOT EXISTS outcome_batches (
  job_id TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (job_id, first_seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS task_tries (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  error_retries INTEGER NOT NULL,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outcome_errors (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  owner TEXT,
  created INTEGER NOT NULL,
  secret_hash TEXT NOT NULL
);
`;

/**
 * A record from before version 2 with every field present. The defaults are what 0.1.0 showed
 * for a missing field (`JobInfo`), so no job looks different after the upgrade; a `maxReplicas`
 * missing beside a redundancy above 1 gets the default a new job gets (redundancy + 2).
 */
export function completeJobRecord(r: StoredJobRecordV0): StoredJobRecordV2 {
  const redundancy = r.redundancy ?? 1;
  return {
    id: r.id,
    owner: r.owner,
    name: r.name,
    group: r.group ?? null,
    state: r.state,
    timeoutMs: r.timeoutMs,
    maxAttempts: r.maxAttempts,
    retryErrors: r.retryErrors ?? 0,
    redundancy,
    maxReplicas: r.maxReplicas ?? (redundancy > 1 ? redundancy + 2 : 1),
    disagreements: r.disagreements ?? 0,
    priority: r.priority,
    total: r.total,
    finished: r.finished,
    failed: r.failed,
    // Null was an Infinity (before reports were clamped); 0.1.0 showed it as 0.
    computeMs: r.computeMs !== null && Number.isFinite(r.computeMs) ? Math.max(0, r.computeMs) : 0,
    created: r.created,
    modified: r.modified,
    lastResult: r.lastResult,
    lastSeq: r.lastSeq,
    paused: r.paused ?? null,
    crashedTasks: r.crashedTasks ?? 0,
  };
}

/**
 * Version 3's tables: what tasks report while they run and what reaches them.
 *
 * - `job_logs`, `job_events`: one row per append (cut at 1,000 lines), JSON lines
 *   (./feed-lines.ts); a line's seq is the row's first seq plus its position.
 * - `series_batches`: what settled tasks collected, one row per label per settle call, lines
 *   "seq,index,valuesJson" (seq: the task's outcome seq), written in the outcomes' transaction;
 *   `series_labels` the job's labels.
 * - `job_messages`: `job.tell()` messages; `message_id` makes a resend idempotent.
 * - `notes`: notes on the dashboard's charts, per owner.
 * - `jobs.name`, `jobs.created` (copies of the record's, which never change after creation) and
 *   `jobs_by_name` on them: `tg.latestJob(name)` without a scan of every record. Real columns,
 *   not an index on json_extract(record, …): `updateJob` rewrites `record` once per commit per
 *   active job, and an expression index on it would be recomputed on every one of those (it
 *   measured +20 µs per update, about half of the update itself); an index on columns no update
 *   sets costs nothing there.
 */
const TABLES_3 = `
CREATE TABLE job_logs (
  job_id TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (job_id, first_seq)
) WITHOUT ROWID;
CREATE TABLE job_events (
  job_id TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (job_id, first_seq)
) WITHOUT ROWID;
CREATE TABLE series_batches (
  job_id TEXT NOT NULL,
  label TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (job_id, label, first_seq)
) WITHOUT ROWID;
CREATE TABLE series_labels (
  job_id TEXT NOT NULL,
  label TEXT NOT NULL,
  PRIMARY KEY (job_id, label)
) WITHOUT ROWID;
CREATE TABLE job_messages (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  data TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (job_id, seq),
  UNIQUE (job_id, message_id)
) WITHOUT ROWID;
CREATE TABLE notes (
  owner TEXT NOT NULL,
  at INTEGER NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX notes_by_owner ON notes (owner, at);
ALTER TABLE jobs ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN created REAL NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_name ON jobs (owner, name, created);
`;

/**
 * A version-2 record with version 3's fields: what a job that never used them shows (Setup
 * bounded by the job's timeout, no progress timeout, nothing logged, collected or sent).
 */
export function completeJobRecordV2(r: StoredJobRecordV2): StoredJobRecordV3 {
  return {
    ...r,
    ...unusedTaskModelFields(r.timeoutMs, null),
  };
}

/**
 * Version 4's columns: provenance (issue 14).
 *
 * - `task_batches.submitted_at`: when the batch was appended (epoch ms), for a task's queued
 *   time; NULL for batches appended before (their tasks' queued time is unknown, not guessed).
 * - `outcome_batches.provenance`: one line per outcome line of the row (./provenance-lines.ts);
 *   `outcome_errors.provenance` the failure's line. NULL for outcomes stored before.
 *
 * Plain reads never select them: only a reader that asks for provenance pays for it.
 */
const COLUMNS_4 = `
ALTER TABLE task_batches ADD COLUMN submitted_at REAL;
ALTER TABLE outcome_batches ADD COLUMN provenance TEXT;
ALTER TABLE outcome_errors ADD COLUMN provenance TEXT;
`;

/**
 * A version-3 record with version 4's fields: its program's hash, no `maxFailures` (the option
 * did not exist) and no reason of the server's for a cancel.
 */
export function completeJobRecordV3(r: StoredJobRecordV3, program: string): StoredJobRecord {
  return { ...r, ...uncancelledProvenanceFields(programHash(program), null) };
}

/**
 * Version 5's columns: raw bytes (issue 18). A task input or result holding typed arrays is kept
 * packed (header JSON plus its bytes, @tabgrid/protocol/packed-value), never as base64 text:
 * its line in `task_batches.inputs` / `outcome_batches.lines` is a `*`, its bytes in the row's
 * `input_bytes` / `payload_bytes` BLOB (./packed-column.ts). NULL for rows without any, and for
 * every row stored before: their base64 tags stay text and read as before (nothing rewritten).
 * Failures (`outcome_errors`) are always text. A version-4 server must not open such a file (it
 * would hand a `*` to a worker as JSON): the version says so.
 */
const COLUMNS_5 = `
ALTER TABLE task_batches ADD COLUMN input_bytes BLOB;
ALTER TABLE outcome_batches ADD COLUMN payload_bytes BLOB;
`;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: "release 0.1.0's tables (a 0.1.0 file has them already)",
    up: (db) => db.exec(TABLES_0_1_0),
  },
  {
    version: 2,
    what: 'every job record holds every field',
    up: (db) => {
      const update = db.prepare('UPDATE jobs SET record = ? WHERE id = ?');
      const rows = db.prepare('SELECT record FROM jobs').pluck().all();
      for (const row of rows) {
        const record = completeJobRecord(decodeJobRecordV0(decodeText(row, 'jobs')));
        update.run(JSON.stringify(record), record.id);
      }
    },
  },
  {
    version: 3,
    what: 'logs, events, series, messages and notes; records gain their fields',
    up: (db) => {
      db.exec(TABLES_3);
      const update = db.prepare('UPDATE jobs SET record = ?, name = ?, created = ? WHERE id = ?');
      const rows = db.prepare('SELECT record FROM jobs').pluck().all();
      for (const row of rows) {
        const record = completeJobRecordV2(decodeJobRecordV2(decodeText(row, 'jobs')));
        update.run(JSON.stringify(record), record.name, record.created, record.id);
      }
    },
  },
  {
    version: 4,
    what: 'provenance: batches know when they were submitted, outcomes who settled them and how',
    up: (db) => {
      db.exec(COLUMNS_4);
      const update = db.prepare('UPDATE jobs SET record = ? WHERE id = ?');
      const code = db.prepare('SELECT program, args AS argsJson FROM jobs WHERE id = ?');
      const rows = db.prepare('SELECT record FROM jobs').pluck().all();
      for (const row of rows) {
        const v3 = decodeJobRecordV3(decodeText(row, 'jobs'));
        const { program } = decodeJobCode(code.get(v3.id));
        const record = completeJobRecordV3(v3, program);
        update.run(JSON.stringify(record), record.id);
      }
    },
  },
  {
    version: 5,
    what: 'typed arrays in task inputs and results are stored as raw bytes (BLOB columns)',
    up: (db) => db.exec(COLUMNS_5),
  },
];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

function userVersion(db: Database.Database): number {
  const version: unknown = db.pragma('user_version', { simple: true });
  if (typeof version !== 'number') throw new Error('PRAGMA user_version returned no number');
  return version;
}

function refuseNewer(version: number, file: string): void {
  if (version <= SCHEMA_VERSION) return;
  throw new TabgridError(
    ErrorCode.INTERNAL,
    `${file} has schema version ${version}, but this server reads versions up to ${SCHEMA_VERSION}: a newer Tabgrid wrote it. Run that release (or a newer one) on this data directory, or start this one on another (TABGRID_DATA_DIR).`,
  );
}

/**
 * Brings the database to {@link SCHEMA_VERSION}. Safe on several connections to one file: the
 * migrations run in an IMMEDIATE transaction that reads the version again, so each runs once.
 */
export function migrate(db: Database.Database, file: string): void {
  const seen = userVersion(db);
  refuseNewer(seen, file);
  if (seen === SCHEMA_VERSION) return;
  db.transaction(() => {
    const current = userVersion(db);
    refuseNewer(current, file);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    }
  }).immediate();
}

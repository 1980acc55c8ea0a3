/**
 * The PostgreSQL schema's versions and the forward migrations between them, recorded in
 * `tabgrid_migrations` (one row per applied version). Its own numbering, not SQLite's
 * `user_version`: the two stores' tables differ (SQLite packs a batch of tasks or outcomes in one
 * row; here each task and each outcome is a row, so that several nodes can lease tasks row by row
 * and the first outcome for (job, index) wins by a unique key).
 *
 * Every open runs the migrations the database has not had, in order, in one transaction under a
 * transaction-level advisory lock: nodes starting together migrate once, and a crash mid-way
 * leaves the old version. A database newer than this code is refused.
 *
 * To change the schema: append a migration with the next version; never edit a released one.
 */
import type { PoolClient } from 'pg';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';

interface PgMigration {
  /** The version the database has after this migration. */
  version: number;
  what: string;
  sql: string;
}

/*
 * Version 1, the tables of schema version 4 of the SQLite store, reshaped for several nodes:
 *
 * - `jobs`: the record as JSON text (decoded on every read, as in SQLite); `pos` keeps the order
 *   of creation (listJobs, and the tie of latestJobByName). `next_seq` is where the database
 *   hands out each job's outcome seqs once several nodes settle one job (unused by one node, whose
 *   core assigns them; the unique key on (job_id, seq) of `outcomes` holds either way).
 * - `task_batches`: submitted batches by id (idempotent submission); `tasks` one row per task, with
 *   its lease: the node holding it and until when (epoch ms). One node keeps its leases in memory
 *   (leases/lease-table.ts) and leaves both NULL; several claim rows `FOR UPDATE SKIP LOCKED`,
 *   renew by node (index `tasks_by_node`), and take back `lease_expires_at < now` (index
 *   `tasks_leased`): ./pg-leases.ts.
 * - `outcomes`: one row per settled task, primary key (job_id, idx): the first outcome wins, a
 *   duplicate inserts nothing (`ON CONFLICT DO NOTHING`), from any node. Provenance in columns
 *   (`attempt` NULL: stored without one). `error_key`: a failure's message with its digits
 *   masked (store/error-message.ts), computed once at settle for the error groups.
 * - the feed tables as in SQLite (rows of lines, ./feed-lines.ts), `notes` with a serial id for
 *   their order; `api_keys` as in SQLite.
 */
const TABLES_1 = `
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  pos BIGSERIAL NOT NULL,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  created DOUBLE PRECISION NOT NULL,
  program TEXT NOT NULL,
  args TEXT NOT NULL,
  record TEXT NOT NULL,
  next_seq BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX jobs_by_name ON jobs (name, owner, created, pos);
CREATE TABLE task_batches (
  job_id TEXT NOT NULL,
  first_index INTEGER NOT NULL,
  count INTEGER NOT NULL,
  batch_id TEXT NOT NULL,
  PRIMARY KEY (job_id, first_index),
  UNIQUE (job_id, batch_id)
);
CREATE TABLE tasks (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  input TEXT NOT NULL,
  submitted_at DOUBLE PRECISION,
  lease_node TEXT,
  lease_expires_at BIGINT,
  PRIMARY KEY (job_id, idx)
);
CREATE INDEX tasks_leased ON tasks (lease_expires_at) WHERE lease_expires_at IS NOT NULL;
CREATE INDEX tasks_by_node ON tasks (lease_node) WHERE lease_node IS NOT NULL;
CREATE TABLE outcomes (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  seq BIGINT NOT NULL,
  ok BOOLEAN NOT NULL,
  payload TEXT NOT NULL,
  error_key TEXT,
  worker_id TEXT,
  attempt INTEGER,
  run_ms DOUBLE PRECISION,
  queued_ms DOUBLE PRECISION,
  PRIMARY KEY (job_id, idx),
  UNIQUE (job_id, seq)
);
CREATE INDEX outcome_errors ON outcomes (job_id, seq) WHERE NOT ok;
CREATE TABLE task_tries (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  error_retries INTEGER NOT NULL,
  PRIMARY KEY (job_id, idx)
);
CREATE TABLE job_logs (
  job_id TEXT NOT NULL,
  first_seq BIGINT NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (job_id, first_seq)
);
CREATE TABLE job_events (
  job_id TEXT NOT NULL,
  first_seq BIGINT NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (job_id, first_seq)
);
CREATE TABLE series_batches (
  job_id TEXT NOT NULL,
  label TEXT NOT NULL,
  first_seq BIGINT NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (job_id, label, first_seq)
);
CREATE TABLE series_labels (
  job_id TEXT NOT NULL,
  label TEXT NOT NULL,
  PRIMARY KEY (job_id, label)
);
CREATE TABLE job_messages (
  job_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  message_id TEXT NOT NULL,
  data TEXT NOT NULL,
  at DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (job_id, seq),
  UNIQUE (job_id, message_id)
);
CREATE TABLE notes (
  id BIGSERIAL PRIMARY KEY,
  owner TEXT NOT NULL,
  at DOUBLE PRECISION NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX notes_by_owner ON notes (owner, at, id);
CREATE INDEX notes_by_time ON notes (at, id);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  owner TEXT,
  created DOUBLE PRECISION NOT NULL,
  secret_hash TEXT NOT NULL
);
`;

/*
 * Version 2, several nodes on one database (issue 15; ./pg-cluster.ts):
 *
 * - `claims`: a node's lease on a batch of one job's tasks (`tasks.claim_id` names it), renewed
 *   for all of a node's claims in one statement per heartbeat; an expired claim is deleted and
 *   its unsettled tasks become claimable again. One row per claimed batch, not per task, so a
 *   heartbeat writes a handful of rows however many tasks a node holds, and settling never
 *   writes a task row. Replaces version 1's per-task lease columns (never released in use).
 * - On `jobs`, the counters and state every node changes, as columns the database updates in
 *   place (`total` by each submitted batch, `finished`/`failed`/`next_seq` by each settle, the
 *   state by close, cancel and the last settle): a node writing its record never overwrites
 *   another's counts. Readers take these over the record's own fields.
 * - `nodes`: each node's heartbeat and the workers it serves, for the dashboards of the others.
 */
const TABLES_2 = `
DROP INDEX tasks_leased;
DROP INDEX tasks_by_node;
ALTER TABLE tasks DROP COLUMN lease_node, DROP COLUMN lease_expires_at, ADD COLUMN claim_id BIGINT;
CREATE INDEX tasks_unclaimed ON tasks (job_id, idx) WHERE claim_id IS NULL;
CREATE INDEX tasks_by_claim ON tasks (claim_id) WHERE claim_id IS NOT NULL;
CREATE TABLE claims (
  id BIGSERIAL PRIMARY KEY,
  node TEXT NOT NULL,
  job_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX claims_by_node ON claims (node, job_id);
CREATE INDEX claims_by_expiry ON claims (expires_at);
ALTER TABLE jobs ADD COLUMN state TEXT, ADD COLUMN total BIGINT, ADD COLUMN finished BIGINT,
  ADD COLUMN failed BIGINT, ADD COLUMN cancel_reason TEXT;
UPDATE jobs SET state = record::json->>'state', total = (record::json->>'total')::bigint,
  finished = (record::json->>'finished')::bigint, failed = (record::json->>'failed')::bigint,
  cancel_reason = record::json->>'cancelReason',
  next_seq = (record::json->>'lastSeq')::bigint + 1;
ALTER TABLE jobs ALTER COLUMN state SET NOT NULL, ALTER COLUMN total SET NOT NULL,
  ALTER COLUMN finished SET NOT NULL, ALTER COLUMN failed SET NOT NULL;
CREATE INDEX jobs_runnable ON jobs (state) WHERE state IN ('open', 'closed');
CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  seen_at BIGINT NOT NULL,
  workers TEXT NOT NULL
);
`;

/*
 * Version 3, raw bytes (as SQLite's schema 5): a task input or result holding typed arrays is
 * kept packed (header JSON plus its bytes, @tabgrid/protocol/packed-value) in `input_bytes` /
 * `payload_bytes`, its text column holding `*` (../packed-column.ts); NULL otherwise, and for
 * every row stored before, whose base64 tags stay text and read as before.
 */
const COLUMNS_3 = `
ALTER TABLE tasks ADD COLUMN input_bytes BYTEA;
ALTER TABLE outcomes ADD COLUMN payload_bytes BYTEA;
`;

const MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    what: 'jobs, tasks with their leases, outcomes by (job, index), feeds, notes and keys',
    sql: TABLES_1,
  },
  {
    version: 2,
    what: 'claims of task batches by node, job counters as columns, nodes',
    sql: TABLES_2,
  },
  {
    version: 3,
    what: 'typed arrays in task inputs and results are stored as raw bytes (bytea columns)',
    sql: COLUMNS_3,
  },
];

/** The schema version this code reads and writes. */
export const PG_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Any constant: the advisory lock every node takes to migrate ("tabgrid" in ASCII, 0x74616267726964). */
const MIGRATION_LOCK = '32758172568676708';

function refuseNewer(version: number, where: string): void {
  if (version <= PG_SCHEMA_VERSION) return;
  throw new TabgridError(
    ErrorCode.INTERNAL,
    `${where} has Tabgrid schema version ${version}, but this server reads versions up to ${PG_SCHEMA_VERSION}: a newer Tabgrid wrote it. Run that release (or a newer one) on this database, or point TABGRID_DATABASE_URL at another.`,
  );
}

/**
 * Brings the database (the schema `schema`, created if missing) to {@link PG_SCHEMA_VERSION};
 * returns the migrations it applied. `client` must not be in a transaction.
 */
export async function migratePg(
  client: PoolClient,
  schema: string,
  where: string,
): Promise<number[]> {
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    // The connection's search_path names this schema; until it existed, it was skipped.
    await client.query("SELECT set_config('search_path', $1, true)", [quoteIdent(schema)]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS tabgrid_migrations (
         version INTEGER PRIMARY KEY,
         what TEXT NOT NULL,
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM tabgrid_migrations',
    );
    const current = rows[0]?.version ?? 0;
    refuseNewer(current, where);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO tabgrid_migrations (version, what) VALUES ($1, $2)', [
        migration.version,
        migration.what,
      ]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return applied;
}

/** An SQL identifier, quoted (schema names come from configuration). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

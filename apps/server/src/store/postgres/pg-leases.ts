/**
 * Leases held in the database, for several nodes on one PostgreSQL (issue 15): a node claims
 * batches of queued tasks for its own tabs, renews all its leases in one statement per
 * heartbeat, and any node takes back the leases whose expiry passed (a node that died stopped
 * renewing them). Each is one statement, atomic on its own: no transaction spans a round trip.
 *
 * Times are epoch ms given by the caller (a node's clock, or the database's `now()` read once per
 * heartbeat when the nodes' clocks cannot be trusted to agree), so tests run on an injected clock.
 * One node keeps its leases in memory (leases/memory-lease-table.ts) and never calls these.
 */
import { Type } from '@sinclair/typebox';
import { createDecoder } from '@tabgrid/protocol/codec';
import { storedTask, type StoredTask } from '../job-store.js';
import { corruptRow } from '../stored-rows.js';
import type { PgRead } from './pg-feed-store.js';
import { decodeQueuedRow } from './pg-rows.js';

/** A lease taken back: whose it was (the node that stopped renewing it) and which task. */
export interface ExpiredLease {
  jobId: string;
  index: number;
  node: string;
}

/*
 * Queued tasks of the job in index order, unleased and unsettled; SKIP LOCKED: rows another
 * node is claiming right now are passed over, not waited for, so concurrent claims are disjoint.
 */
const CLAIM = `UPDATE tasks SET lease_node = $2, lease_expires_at = $4
  WHERE job_id = $1 AND idx IN (
    SELECT t.idx FROM tasks t
    WHERE t.job_id = $1 AND t.lease_node IS NULL
      AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.job_id = t.job_id AND o.idx = t.idx)
    ORDER BY t.idx LIMIT $3
    FOR UPDATE SKIP LOCKED)
  RETURNING idx AS "index", input, input_bytes AS "inputBytes", submitted_at AS "submittedAt"`;

const RENEW = `UPDATE tasks SET lease_expires_at = $2 WHERE lease_node = $1`;

/*
 * Locked as they are selected, SKIP LOCKED: nodes taking back at once take each lease once.
 * Settled tasks' leases are cleared too (settling never writes task rows), but not returned.
 */
const TAKE_BACK = `WITH expired AS (
    SELECT job_id, idx, lease_node FROM tasks WHERE lease_expires_at < $1
    FOR UPDATE SKIP LOCKED)
  UPDATE tasks t SET lease_node = NULL, lease_expires_at = NULL
  FROM expired e WHERE t.job_id = e.job_id AND t.idx = e.idx
  RETURNING t.job_id AS "jobId", t.idx AS "index", e.lease_node AS node,
    EXISTS (SELECT 1 FROM outcomes o WHERE o.job_id = t.job_id AND o.idx = t.idx) AS settled`;

const RELEASE = `UPDATE tasks SET lease_node = NULL, lease_expires_at = NULL
  WHERE job_id = $1 AND lease_node = $2 AND idx = ANY($3::integer[])`;

const RESERVE_SEQS = `UPDATE jobs SET next_seq = next_seq + $2 WHERE id = $1
  RETURNING next_seq - $2 AS first`;

const decodeTakenBack = ((decode) => (row: unknown) => {
  try {
    return decode(row);
  } catch (err) {
    throw corruptRow('tasks', err instanceof Error ? err.message : String(err));
  }
})(
  createDecoder(
    Type.Object({
      jobId: Type.String(),
      index: Type.Integer({ minimum: 0 }),
      node: Type.String(),
      settled: Type.Boolean(),
    }),
    'row of tasks',
  ),
);

const decodeFirstSeq = createDecoder(
  Type.Object({ first: Type.Integer({ minimum: 1 }) }),
  'row of jobs',
);

/** The lease statements, on the job store's pool (PgJobStore.leases). */
export class PgLeases {
  constructor(private readonly read: PgRead) {}

  /** Leases up to `count` queued tasks of the job to `node` until `now + ttlMs`, in index order. */
  async claimTasks(
    node: string,
    jobId: string,
    count: number,
    ttlMs: number,
    now: number,
  ): Promise<StoredTask[]> {
    if (count <= 0) return [];
    const rows = await this.read(CLAIM, [jobId, node, Math.floor(count), now + ttlMs]);
    const tasks = rows.map((row) => decodeQueuedRow(row));
    // RETURNING follows no order: the claim is index order, and so is what it returns.
    tasks.sort((a, b) => a.index - b.index);
    return tasks.map((t) => storedTask(t.index, t.input, t.submittedAt));
  }

  /** Every lease of `node` now runs until `now + ttlMs` (a heartbeat); how many it holds. */
  async renewLeases(node: string, ttlMs: number, now: number): Promise<number> {
    const rows = await this.read(`${RENEW} RETURNING 1`, [node, now + ttlMs]);
    return rows.length;
  }

  /** Takes back every lease that expired before `now`; the unsettled tasks among them. */
  async takeBackExpired(now: number): Promise<ExpiredLease[]> {
    const rows = await this.read(TAKE_BACK, [now]);
    const out: ExpiredLease[] = [];
    for (const row of rows) {
      const { jobId, index, node, settled } = decodeTakenBack(row);
      if (!settled) out.push({ jobId, index, node });
    }
    return out;
  }

  /** `node` hands back tasks it leased (a tab left, a cancel); how many it held. */
  async releaseTasks(node: string, jobId: string, indexes: readonly number[]): Promise<number> {
    if (indexes.length === 0) return 0;
    const rows = await this.read(`${RELEASE} RETURNING 1`, [jobId, node, [...indexes]]);
    return rows.length;
  }

  /**
   * Reserves `count` consecutive outcome seqs of the job, handed out by the database so that
   * nodes settling one job never give two outcomes one seq; the first of them (undefined: no such
   * job).
   */
  async reserveSeqs(jobId: string, count: number): Promise<number | undefined> {
    const [row] = await this.read(RESERVE_SEQS, [jobId, Math.max(1, Math.floor(count))]);
    return row === undefined ? undefined : decodeFirstSeq(row).first;
  }
}

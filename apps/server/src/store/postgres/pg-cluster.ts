/**
 * The statements several nodes on one PostgreSQL share (issue 15), on the job store's pool:
 *
 * - claims: a node leases a batch of one job's queued tasks (`FOR UPDATE SKIP LOCKED`: nodes
 *   claiming at once get disjoint batches), renews every claim it holds in one statement per
 *   heartbeat, and any node deletes the claims whose expiry passed (their node died or hung),
 *   which makes their unsettled tasks claimable again;
 * - submission and settling in the database's order: a batch gets its indexes from the job's
 *   `total` and each settle its seqs from the job's `next_seq`, both under the job row's lock, so
 *   seqs follow commit order (a stream that read up to seq n never misses a later commit below
 *   it) and the first outcome for (job, index) wins by the primary key, from any node;
 * - the job's counters and state as columns (the settle that reaches `total` of a closed job
 *   marks it done), read back as a {@link JobTally};
 * - `nodes`: each node's heartbeat and worker list; `NOTIFY` on one channel per schema.
 *
 * Times are epoch ms given by the caller, so tests run on an injected clock.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import pg from 'pg';
import {
  storedTask,
  type CarriedValue,
  type ClaimedTask,
  type StoredOutcome,
  type StoredSeriesLines,
} from '../job-store.js';
import type { PgFeedStore, PgRead } from './pg-feed-store.js';
import type { PgGroupCommit } from './pg-group-commit.js';
import { UNSETTLED } from './pg-job-statements.js';
import { quoteIdent } from './pg-migrations.js';
import {
  TALLY,
  decodeId,
  decodeNodeRow,
  decodePos,
  decodeTakenBack,
  decodeTally,
  decodeTriesRow,
  recordFromRow,
  type JobTally,
  type NodeRow,
  type SyncedJob,
  type TakenBack,
} from './pg-cluster-rows.js';
import { PgBatchAppender } from './pg-cluster-batches.js';
import { insertClusterSettles, type PendingClusterSettle } from './pg-cluster-settle.js';

export type { JobTally, NodeRow, SyncedJob, TakenBack };
export { TALLY, recordFromRow };
import { decodeQueuedRow } from './pg-rows.js';

/*
 * Unclaimed tasks are unsettled but for a rare one: freed by a take-back, then answered late by
 * the node that hung. Checking every candidate against `outcomes` would cost each claim a probe
 * per task; claiming that one again costs one duplicate run, which its settle drops.
 */
const CLAIM_TASKS = `UPDATE tasks SET claim_id = $2
  WHERE job_id = $1 AND idx IN (
    SELECT t.idx FROM tasks t
    WHERE t.job_id = $1 AND t.claim_id IS NULL
    ORDER BY t.idx LIMIT $3
    FOR UPDATE SKIP LOCKED)
  RETURNING idx AS "index", input, input_bytes AS "inputBytes", submitted_at AS "submittedAt"`;

/*
 * Deleting a claim locks its row: nodes sweeping at once take each claim back once (the second
 * finds it gone). Its settled tasks keep the dead id (never claimed again: they are settled).
 */
const TAKE_BACK = `WITH expired AS (DELETE FROM claims WHERE expires_at < $1 RETURNING id, node, job_id),
  freed AS (
    UPDATE tasks t SET claim_id = NULL FROM expired e
    WHERE t.claim_id = e.id AND ${UNSETTLED}
    RETURNING e.id)
  SELECT e.node, e.job_id AS "jobId", count(f.id)::integer AS tasks
  FROM expired e LEFT JOIN freed f ON f.id = e.id GROUP BY e.node, e.job_id`;

const RELEASE = `WITH mine AS (DELETE FROM claims WHERE node = $1 AND ($2::text IS NULL OR job_id = $2) RETURNING id)
  UPDATE tasks t SET claim_id = NULL FROM mine m WHERE t.claim_id = m.id AND ${UNSETTLED}`;

/** The channel of one schema's notifications (an identifier: at most 63 bytes, so hashed). */
export function channelOf(schema: string): string {
  return `tabgrid_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
}

/** Several nodes' statements (PgJobStore.cluster). */
export class PgCluster {
  readonly channel: string;
  private readonly batches = new PgBatchAppender(
    (work) => this.transaction(work),
    (text, values) => this.read(text, values),
  );

  constructor(
    private readonly pool: pg.Pool,
    private readonly ready: Promise<void>,
    private readonly read: PgRead,
    private readonly commits: PgGroupCommit,
    private readonly feeds: PgFeedStore,
    private readonly connection: { url: string; schema: string },
  ) {
    this.channel = channelOf(connection.schema);
  }

  /** One transaction on a pooled connection (claims and submissions: never group-committed). */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.ready;
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await work(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  // ---- claims -------------------------------------------------------------------------

  /**
   * Claims up to `count` queued tasks of the job for `node` until `now + ttlMs`, in index order,
   * each with the tries saved for it; none when every queued task is claimed or settled.
   */
  claim(
    node: string,
    jobId: string,
    count: number,
    ttlMs: number,
    now: number,
  ): Promise<ClaimedTask[]> {
    if (count <= 0) return Promise.resolve([]);
    return this.transaction(async (client) => {
      const inserted = await client.query(
        'INSERT INTO claims (node, job_id, expires_at) VALUES ($1, $2, $3) RETURNING id',
        [node, jobId, now + ttlMs],
      );
      const { id } = decodeId(inserted.rows[0]);
      const { rows } = await client.query(CLAIM_TASKS, [jobId, id, Math.floor(count)]);
      if (rows.length === 0) {
        await client.query('DELETE FROM claims WHERE id = $1', [id]);
        return [];
      }
      const tasks: ClaimedTask[] = rows.map((row) => {
        const t = decodeQueuedRow(row);
        return storedTask(t.index, t.input, t.submittedAt);
      });
      // RETURNING follows no order: the claim is index order, and so is what it returns.
      tasks.sort((a, b) => a.index - b.index);
      // Most jobs never saved a try: one probe instead of one per claimed task.
      const anyTries = await client.query('SELECT 1 FROM task_tries WHERE job_id = $1 LIMIT 1', [
        jobId,
      ]);
      if (anyTries.rows.length === 0) return tasks;
      const tries = await client.query(
        `SELECT idx AS "index", attempts, error_retries AS "errorRetries" FROM task_tries
         WHERE job_id = $1 AND idx = ANY($2::integer[])`,
        [jobId, tasks.map((t) => t.index)],
      );
      if (tries.rows.length > 0) {
        const byIndex = new Map(tasks.map((t) => [t.index, t]));
        for (const row of tries.rows) {
          const { index, attempts, errorRetries } = decodeTriesRow(row);
          const task = byIndex.get(index);
          if (task) task.tries = { attempts, errorRetries };
        }
      }
      return tasks;
    });
  }

  /**
   * A heartbeat: every claim of `node` runs until `now + ttlMs`, and its row in `nodes` says it
   * is alive and which workers it serves (`workers`, JSON text). Returns the claims it holds.
   */
  async heartbeat(node: string, ttlMs: number, now: number, workers: string): Promise<number> {
    const [renewed] = await Promise.all([
      this.read('UPDATE claims SET expires_at = $2 WHERE node = $1 RETURNING 1', [
        node,
        now + ttlMs,
      ]),
      this.read(
        `INSERT INTO nodes (id, seen_at, workers) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at, workers = excluded.workers`,
        [node, now, workers],
      ),
    ]);
    return renewed.length;
  }

  /** Deletes every claim that expired before `now`; what each held of unsettled tasks. */
  async takeBackExpired(now: number): Promise<TakenBack[]> {
    const rows = await this.read(TAKE_BACK, [now]);
    return rows.map((row) => decodeTakenBack(row));
  }

  /** `node` gives up its claims (of one job, or all of them when it stops). */
  async release(node: string, jobId?: string): Promise<void> {
    await this.read(RELEASE, [node, jobId ?? null]);
  }

  /** Nodes seen since `since`, and forgets those not seen for long (`forgetBefore`). */
  async nodes(since: number, forgetBefore: number): Promise<NodeRow[]> {
    await this.read('DELETE FROM nodes WHERE seen_at < $1', [forgetBefore]);
    const rows = await this.read(
      'SELECT id, seen_at AS "seenAt", workers FROM nodes WHERE seen_at >= $1 ORDER BY id',
      [since],
    );
    return rows.map((row) => decodeNodeRow(row));
  }

  /** `node` stopped: its row goes (its claims were released first). */
  async leave(node: string): Promise<void> {
    await this.read('DELETE FROM nodes WHERE id = $1', [node]);
  }

  // ---- submission, settling and state -----------------------------------------------

  /**
   * Appends a batch at the job's `total` (a batch id stored already: its first answer, nothing
   * added); in call order per job (./pg-cluster-batches.ts).
   */
  appendBatch(
    jobId: string,
    batchId: string,
    inputs: readonly CarriedValue[],
    submittedAt: number,
  ): Promise<{ firstIndex: number; count: number }> {
    return this.batches.append(jobId, batchId, inputs, submittedAt);
  }

  /**
   * Stores outcomes (their seqs are given here, in commit order; the caller's are ignored) with
   * the series they collected, and counts them: the tally after this commit. Settles issued in
   * one turn share one commit (one INSERT), as the plain store's do; an outcome whose (job,
   * index) settled before inserts nothing and counts nothing.
   */
  async settle(
    jobId: string,
    outcomes: readonly StoredOutcome[],
    series?: StoredSeriesLines[],
  ): Promise<JobTally> {
    const pending: PendingClusterSettle = {
      jobId,
      outcomes: [...outcomes],
      ...(series ? { series: series.map((s) => ({ label: s.label, lines: [...s.lines] })) } : {}),
    };
    await this.commits.addMerged('cluster-settle', pending, (client, settles) =>
      insertClusterSettles(this.feeds, client, settles),
    );
    if (pending.tally) return pending.tally;
    return this.tally(jobId);
  }

  /** No more tasks: closed, or done at once when every task settled already. */
  async close(jobId: string): Promise<JobTally | undefined> {
    const rows = await this.read(
      `UPDATE jobs SET state = CASE WHEN finished + failed >= total THEN 'done' ELSE 'closed' END
       WHERE id = $1 AND state = 'open' RETURNING ${TALLY}`,
      [jobId],
    );
    return rows[0] === undefined ? this.tally(jobId) : decodeTally(rows[0]);
  }

  /** Cancelled (with the server's `reason`, or null for its owner's cancel), unless it ended. */
  async cancel(jobId: string, reason: string | null): Promise<JobTally | undefined> {
    const rows = await this.read(
      `UPDATE jobs SET state = 'cancelled', cancel_reason = $2
       WHERE id = $1 AND state IN ('open', 'closed') RETURNING ${TALLY}`,
      [jobId, reason],
    );
    return rows[0] === undefined ? this.tally(jobId) : decodeTally(rows[0]);
  }

  /** The job's tally now (undefined: no such job). */
  async tally(jobId: string): Promise<JobTally> {
    const [row] = await this.read(`SELECT ${TALLY} FROM jobs WHERE id = $1`, [jobId]);
    if (row === undefined) {
      throw new TabgridError(ErrorCode.JOB_NOT_FOUND, `No job with id ${jobId}: it was deleted.`);
    }
    return decodeTally(row);
  }

  /**
   * What a node syncs: runnable jobs, the jobs it asks for by id, and jobs created after `afterPos`
   * (creation order). A job asked for that is missing was deleted.
   */
  async jobs(ids: readonly string[], afterPos: number): Promise<SyncedJob[]> {
    const rows = await this.read(
      `SELECT pos, record, ${TALLY} FROM jobs
       WHERE state IN ('open', 'closed') OR id = ANY($1::text[]) OR pos > $2 ORDER BY pos`,
      [[...ids], afterPos],
    );
    return rows.map((row) => ({ pos: decodePos(row).pos, record: recordFromRow(row) }));
  }

  // ---- notifications -------------------------------------------------------------------

  /** Tells every node listening on this schema's channel (`payload` ≤ 8,000 bytes). */
  async notify(payload: string): Promise<void> {
    await this.read('SELECT pg_notify($1, $2)', [this.channel, payload]);
  }

  /**
   * Listens on the channel with a connection of its own (a pooled one could not stay in LISTEN);
   * `lost` runs when that connection drops (the caller listens again; polling covers the gap).
   * Resolves to a function that stops listening.
   */
  async listen(
    onPayload: (payload: string) => void,
    lost: (err: Error) => void,
  ): Promise<() => Promise<void>> {
    await this.ready;
    const client = new pg.Client({
      connectionString: this.connection.url,
      application_name: 'tabgrid-listen',
      options: `-c search_path=${quoteIdent(this.connection.schema)}`,
    });
    let stopped = false;
    client.on('notification', (msg) => {
      if (msg.channel === this.channel && msg.payload !== undefined) onPayload(msg.payload);
    });
    client.on('error', (err) => {
      if (!stopped) lost(err);
    });
    client.on('end', () => {
      if (!stopped) lost(new Error('the LISTEN connection ended'));
    });
    await client.connect();
    await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    return async () => {
      stopped = true;
      await client.end().catch(() => undefined);
    };
  }
}

/**
 * Submitted batches on several nodes (./pg-cluster.ts): a batch's indexes follow its job's
 * `total` in the database, so batches sent to different nodes never share one, and a batch id
 * stored already returns its first indexes and adds nothing (a batch resent to another node after
 * its first died).
 *
 * Per job and node, in call order (a task's index is its place in the submitter's order, and
 * concurrent transactions would take the job row in any order): the batches waiting while one
 * transaction runs go into the next, together (an SDK keeps several batches in flight; one
 * transaction of a few round trips each would make submission wait on the database's latency).
 */
import { Type } from '@sinclair/typebox';
import { createDecoder } from '@tabgrid/protocol/codec';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type pg from 'pg';
import type { CarriedValue } from '../job-store.js';
import { copyCarried } from '../packed-column.js';
import { forTable } from '../stored-rows.js';
import { packedCells } from './pg-job-statements.js';
import { decodeFirst } from './pg-cluster-rows.js';

export interface BatchAck {
  firstIndex: number;
  count: number;
}

interface PendingAppend {
  batchId: string;
  /** Text, or a packed value's bytes (typed arrays; to `input_bytes`, pg-migrations version 3). */
  inputs: readonly CarriedValue[];
  submittedAt: number;
  resolve(ack: BatchAck): void;
  reject(err: unknown): void;
}

const decodeKnown = forTable(
  'task_batches',
  createDecoder(
    Type.Object({
      batchId: Type.String(),
      firstIndex: Type.Integer({ minimum: 0 }),
      count: Type.Integer({ minimum: 0 }),
    }),
    'row of task_batches',
  ),
);

/**
 * The INSERT columns of `group`'s tasks, indexes from `start` on in order, and each batch's
 * first index (`offsets`).
 */
function taskColumns(group: readonly PendingAppend[], start: number) {
  const offsets: number[] = [];
  const idx: number[] = [];
  const input: string[] = [];
  const packed: (Uint8Array | null)[] = [];
  const at: number[] = [];
  let next = start;
  for (const g of group) {
    offsets.push(next);
    for (const value of g.inputs) {
      const [text, bytes] = packedCells(value);
      idx.push(next++);
      input.push(text);
      packed.push(bytes);
      at.push(g.submittedAt);
    }
  }
  return { offsets, idx, input, packed, at };
}

/** PostgreSQL's unique_violation: another node stored one of the batch ids at this moment. */
const UNIQUE_VIOLATION = '23505';

/*
 * Indexes from the job's total, the batches and their tasks, in one statement: nothing is bumped
 * or stored unless the job is open and none of the batch ids is known (then no row comes back).
 */
const APPEND_FRESH = `WITH bump AS (
    UPDATE jobs SET total = total + $2 WHERE id = $1 AND state = 'open'
      AND NOT EXISTS (SELECT 1 FROM task_batches WHERE job_id = $1 AND batch_id = ANY($4::text[]))
    RETURNING total - $2 AS first),
  b AS (
    INSERT INTO task_batches (job_id, first_index, count, batch_id)
    SELECT $1, bump.first + u.o, u.c, u.b
    FROM bump, unnest($3::integer[], $5::integer[], $4::text[]) AS u(o, c, b)),
  t AS (
    INSERT INTO tasks (job_id, idx, input, submitted_at, input_bytes)
    SELECT $1, bump.first + u.i, u.t, u.s, u.p
    FROM bump, unnest($6::integer[], $7::text[], $8::double precision[], $9::bytea[]) AS u(i, t, s, p))
  SELECT first FROM bump`;

/** Thrown inside the transaction when another node stored one of its batches first. */
class BatchRaced extends Error {}

export class PgBatchAppender {
  private readonly queues = new Map<string, PendingAppend[]>();

  constructor(
    private readonly transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
    /** One statement on any pooled connection (atomic on its own). */
    private readonly read: (text: string, values: unknown[]) => Promise<unknown[]>,
  ) {}

  append(
    jobId: string,
    batchId: string,
    inputs: readonly CarriedValue[],
    submittedAt: number,
  ): Promise<BatchAck> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(jobId);
      // Copied now: what the inputs were at this call is what commits.
      const item = { batchId, inputs: inputs.map(copyCarried), submittedAt, resolve, reject };
      if (queue) {
        queue.push(item);
        return;
      }
      this.queues.set(jobId, [item]);
      void this.drain(jobId);
    });
  }

  /** Appends what the job's queue holds, in one transaction each round, until it is empty. */
  private async drain(jobId: string): Promise<void> {
    for (;;) {
      const group = this.queues.get(jobId) ?? [];
      if (group.length === 0) {
        this.queues.delete(jobId);
        return;
      }
      this.queues.set(jobId, []);
      let acks: (BatchAck | Error)[];
      try {
        acks =
          (await this.appendFresh(jobId, group)) ??
          (await this.appendGroup(jobId, group).catch(async (err: unknown) => {
            if (!(err instanceof BatchRaced)) throw err;
            return this.appendGroup(jobId, group); // the raced batches are known now
          }));
      } catch (err) {
        for (const item of group) item.reject(err);
        continue;
      }
      group.forEach((item, i) => {
        const ack = acks[i]!;
        if (ack instanceof Error) item.reject(ack);
        else item.resolve(ack);
      });
    }
  }

  /**
   * The usual case in one statement, one round trip: batch ids not seen before, of an open job.
   * Undefined when that is not so (one is known, the job is not open, another node stored one
   * of them at this moment): then {@link appendGroup} sorts it out in a transaction.
   */
  private async appendFresh(
    jobId: string,
    group: PendingAppend[],
  ): Promise<BatchAck[] | undefined> {
    const ids = group.map((g) => g.batchId);
    if (new Set(ids).size !== ids.length) return undefined;
    const { offsets, idx, input, packed, at } = taskColumns(group, 0);
    const n = idx.length;
    let rows: unknown[];
    try {
      rows = await this.read(APPEND_FRESH, [
        jobId,
        n,
        offsets,
        ids,
        group.map((g) => g.inputs.length),
        idx,
        input,
        at,
        packed,
      ]);
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code === UNIQUE_VIOLATION) return undefined;
      throw err;
    }
    if (rows.length === 0) return undefined;
    const { first } = decodeFirst(rows[0]);
    return group.map((g, i) => ({ firstIndex: first + offsets[i]!, count: g.inputs.length }));
  }

  private appendGroup(jobId: string, group: PendingAppend[]): Promise<(BatchAck | Error)[]> {
    return this.transaction(async (client) => {
      const known = new Map<string, BatchAck>();
      const { rows } = await client.query(
        `SELECT batch_id AS "batchId", first_index AS "firstIndex", count FROM task_batches
         WHERE job_id = $1 AND batch_id = ANY($2::text[])`,
        [jobId, group.map((g) => g.batchId)],
      );
      for (const row of rows) {
        const { batchId, firstIndex, count } = decodeKnown(row);
        known.set(batchId, { firstIndex, count });
      }
      // Each batch id once (a resend queued beside its first gets the first's answer).
      const fresh: PendingAppend[] = [];
      const seen = new Set<string>();
      for (const g of group) {
        if (known.has(g.batchId) || seen.has(g.batchId)) continue;
        seen.add(g.batchId);
        fresh.push(g);
      }
      if (fresh.length > 0) {
        const n = fresh.reduce((sum, g) => sum + g.inputs.length, 0);
        const bumped = await client.query(
          `UPDATE jobs SET total = total + $2 WHERE id = $1 AND state = 'open' RETURNING total - $2 AS first`,
          [jobId, n],
        );
        if (bumped.rows.length === 0) {
          const notOpen = await this.notOpen(client, jobId);
          return group.map((g) => known.get(g.batchId) ?? notOpen);
        }
        const first = decodeFirst(bumped.rows[0]).first;
        const { offsets: batchFirst, idx, input, packed, at } = taskColumns(fresh, first);
        fresh.forEach((g, i) => {
          known.set(g.batchId, { firstIndex: batchFirst[i]!, count: g.inputs.length });
        });
        const inserted = await client.query(
          `INSERT INTO task_batches (job_id, first_index, count, batch_id)
           SELECT $1, f, c, b FROM unnest($2::integer[], $3::integer[], $4::text[]) AS u(f, c, b)
           ON CONFLICT DO NOTHING RETURNING 1`,
          [jobId, batchFirst, fresh.map((g) => g.inputs.length), fresh.map((g) => g.batchId)],
        );
        // Another node stored one of these meanwhile: all undone, then again with it known.
        if (inserted.rows.length !== fresh.length) throw new BatchRaced();
        await client.query(
          `INSERT INTO tasks (job_id, idx, input, submitted_at, input_bytes)
           SELECT $1, i, t, s, p FROM unnest($2::integer[], $3::text[], $4::double precision[], $5::bytea[]) AS u(i, t, s, p)`,
          [jobId, idx, input, at, packed],
        );
      }
      return group.map((g) => known.get(g.batchId)!);
    });
  }

  private async notOpen(client: pg.PoolClient, jobId: string): Promise<TabgridError> {
    const { rows } = await client.query('SELECT state FROM jobs WHERE id = $1', [jobId]);
    const state = (rows[0] as { state?: unknown } | undefined)?.state;
    return new TabgridError(
      ErrorCode.JOB_NOT_OPEN,
      `Job ${jobId} is ${typeof state === 'string' ? state : 'gone'}: tasks can only be added to an open job. Create a new job.`,
    );
  }
}

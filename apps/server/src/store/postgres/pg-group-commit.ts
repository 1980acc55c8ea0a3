/**
 * The group commit of the PostgreSQL store, as ../group-commit.ts is SQLite's: writes queue up
 * during a turn of the event loop and commit together, in issue order, in one transaction; each
 * write's promise resolves once that transaction committed, or rejects with its error (all or
 * nothing). Record updates are kept apart, the latest per job winning, and applied after the
 * other writes, in one statement.
 *
 * A commit is a few round trips to the server, so it is asynchronous: while one is in flight,
 * what is issued meanwhile gathers into the next, which starts the moment the first ends. Under
 * load the batches grow by themselves and the commits per second stay bounded.
 */
import type pg from 'pg';
import { copyJobRecord, type JobRecord } from '../job-store.js';

/** One write: its statements, run on the commit's connection inside its transaction. */
export type PgWrite = (client: pg.PoolClient) => Promise<void>;

/**
 * Writes of one kind issued one after another, run as one (settles, say: one INSERT for the
 * outcomes of every worker frame in a row, not one round trip each).
 */
interface MergedWrites {
  key: string;
  items: unknown[];
  run: (client: pg.PoolClient, items: unknown[]) => Promise<void>;
}

interface Pending {
  writes: (PgWrite | MergedWrites)[];
  jobUpdates: Map<string, JobRecord>;
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}

const UPDATE_RECORDS = `UPDATE jobs SET record = u.record
  FROM unnest($1::text[], $2::text[]) AS u(id, record) WHERE jobs.id = u.id`;

/** Used alone, a record written whole sets the job's counter and state columns too. */
const UPDATE_RECORDS_AND_TALLIES = `UPDATE jobs SET record = u.record, state = u.state, total = u.total,
    finished = u.finished, failed = u.failed, next_seq = u.last_seq + 1, cancel_reason = u.cancel_reason
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[])
    AS u(id, record, state, total, finished, failed, last_seq, cancel_reason)
  WHERE jobs.id = u.id`;

/** PostgreSQL's deadlock_detected: the transaction was rolled back whole, and may run again. */
const DEADLOCK = '40P01';
const DEADLOCK_RETRIES = 3;

export class PgGroupCommit {
  private pending: Pending | undefined;
  private scheduled = false;
  /** The commit in flight, if any. */
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    /** Awaited before the first commit (the migration). */
    private readonly ready: Promise<void>,
    /** One of several nodes: records never set the counter and state columns (see PgStoreOptions). */
    private readonly clustered = false,
  ) {}

  /**
   * Queues `item` for `run` with the writes of the same `key` queued right before it (none
   * between): they run as one, at the place of the first, which keeps the issue order.
   */
  addMerged<T>(
    key: string,
    item: T,
    run: (client: pg.PoolClient, items: T[]) => Promise<void>,
  ): Promise<void> {
    const last = this.pending?.writes.at(-1);
    if (last !== undefined && typeof last !== 'function' && last.key === key) {
      last.items.push(item);
      return this.add(undefined);
    }
    return this.add({
      key,
      items: [item],
      run: run as (client: pg.PoolClient, items: unknown[]) => Promise<void>,
    });
  }

  add(write: PgWrite | MergedWrites | undefined, jobUpdate?: JobRecord): Promise<void> {
    if (!this.pending) this.pending = { writes: [], jobUpdates: new Map(), waiters: [] };
    const pending = this.pending;
    if (write) pending.writes.push(write);
    // A copy: the caller keeps changing its record; what it was at this call is what commits.
    if (jobUpdate) pending.jobUpdates.set(jobUpdate.id, copyJobRecord(jobUpdate));
    if (!this.scheduled && !this.running) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.startNext();
      });
    }
    return new Promise((resolve, reject) => pending.waiters.push({ resolve, reject }));
  }

  /** Starts committing what is pending, unless a commit is in flight (it starts it after). */
  private startNext(): void {
    if (this.running || !this.pending) return;
    const pending = this.pending;
    this.pending = undefined;
    this.running = this.commit(pending).finally(() => {
      this.running = undefined;
      this.startNext();
    });
  }

  private async commit(pending: Pending): Promise<void> {
    try {
      await this.ready;
      for (let attempt = 0; ; attempt++) {
        try {
          await this.transaction(pending);
          break;
        } catch (err) {
          // Two nodes' commits locked job rows in a ring; PostgreSQL rolled this one back whole.
          const code = (err as { code?: unknown } | null)?.code;
          if (code !== DEADLOCK || attempt >= DEADLOCK_RETRIES) throw err;
        }
      }
    } catch (err) {
      for (const waiter of pending.waiters) waiter.reject(err);
      return;
    }
    for (const waiter of pending.waiters) waiter.resolve();
  }

  private async transaction(pending: Pending): Promise<void> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      for (const write of pending.writes) {
        if (typeof write === 'function') await write(client);
        else await write.run(client, write.items);
      }
      if (pending.jobUpdates.size > 0) await this.updateRecords(client, pending.jobUpdates);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true; // the connection is gone or unusable: do not hand it out again
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  private async updateRecords(client: pg.PoolClient, jobs: Map<string, JobRecord>): Promise<void> {
    // In id order: commits of several nodes lock job rows in one order, not in a ring.
    const sorted = [...jobs.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const ids = sorted.map((job) => job.id);
    const records = sorted.map((job) => JSON.stringify(job));
    if (this.clustered) {
      await client.query(UPDATE_RECORDS, [ids, records]);
      return;
    }
    await client.query(UPDATE_RECORDS_AND_TALLIES, [
      ids,
      records,
      sorted.map((job) => job.state),
      sorted.map((job) => job.total),
      sorted.map((job) => job.finished),
      sorted.map((job) => job.failed),
      sorted.map((job) => job.lastSeq),
      sorted.map((job) => job.cancelReason),
    ]);
  }

  /** Commits everything issued so far (before closing); resolves when nothing is left. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      else if (this.pending) this.startNext();
      else return;
    }
  }
}

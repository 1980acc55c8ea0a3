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

export class PgGroupCommit {
  private pending: Pending | undefined;
  private scheduled = false;
  /** The commit in flight, if any. */
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    /** Awaited before the first commit (the migration). */
    private readonly ready: Promise<void>,
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
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        for (const write of pending.writes) {
          if (typeof write === 'function') await write(client);
          else await write.run(client, write.items);
        }
        if (pending.jobUpdates.size > 0) {
          const ids: string[] = [];
          const records: string[] = [];
          for (const job of pending.jobUpdates.values()) {
            ids.push(job.id);
            records.push(JSON.stringify(job));
          }
          await client.query(UPDATE_RECORDS, [ids, records]);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true; // the connection is gone or unusable: do not hand it out again
        });
        throw err;
      } finally {
        client.release(broken);
      }
    } catch (err) {
      for (const waiter of pending.waiters) waiter.reject(err);
      return;
    }
    for (const waiter of pending.waiters) waiter.resolve();
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

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import { SettledSet } from './settled-set.js';
import type {
  JobCode,
  JobRecord,
  JobStore,
  StoredBatch,
  StoredErrorGroup,
  StoredOutcome,
  StoredTask,
} from './job-store.js';

/*
 * Tasks are stored one row per submitted batch, their inputs joined by "\n" (every input is
 * single-line JSON text): appending 1,000 tasks is one insert. Outcomes are append-only rows in
 * seq order. Which tasks are settled is derived from the outcomes (SettledSet), so settling a task
 * never rewrites its task row: one small insert per outcome and nothing else.
 */
const SCHEMA = `
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
CREATE TABLE IF NOT EXISTS outcomes (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outcomes_errors ON outcomes (job_id, seq) WHERE ok = 0;
`;

type Write = () => void;
interface Pending {
  writes: Write[];
  jobUpdates: Map<string, JobRecord>;
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}
/** Jobs whose settled bitmaps stay cached (one bit per task each). */
const SETTLED_CACHE_JOBS = 256;
type RawOutcome = { seq: number; index: number; ok: number; payload: string };
const fromRaw = (r: RawOutcome): StoredOutcome => ({ ...r, ok: r.ok === 1 });

/**
 * The default store: one SQLite file (better-sqlite3, WAL) in the data directory.
 *
 * Group commit: writes queue up during a turn of the event loop and commit in one transaction
 * on the next `setImmediate`. `synchronous=NORMAL` in WAL mode survives a process crash
 * (SIGKILL); only an OS crash or power loss can drop the last commits.
 */
export class SqliteJobStore implements JobStore {
  private readonly db: Database.Database;
  private pending: Pending | undefined;
  private readonly settled = new Map<string, SettledSet>();
  private readonly stmt;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'tabgrid.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const outcomeColumns = 'seq, idx AS "index", ok, payload';
    this.stmt = {
      insertJob: this.db.prepare(
        'INSERT INTO jobs (id, owner, program, args, record) VALUES (?, ?, ?, ?, ?)',
      ),
      updateJob: this.db.prepare('UPDATE jobs SET record = ? WHERE id = ?'),
      insertBatch: this.db.prepare(
        'INSERT OR IGNORE INTO task_batches (job_id, first_index, count, batch_id, inputs) VALUES (?, ?, ?, ?, ?)',
      ),
      // One statement per batch: SQLite unpacks the JSON array in C, cheaper than a call per row.
      insertOutcomes: this.db.prepare(
        `INSERT INTO outcomes (job_id, seq, idx, ok, payload)
         SELECT ?, value ->> 0, value ->> 1, value ->> 2, value -> 3 FROM json_each(?)`,
      ),
      settledIndexes: this.db.prepare('SELECT idx FROM outcomes WHERE job_id = ?').pluck(),
      deleteJob: this.db.prepare('DELETE FROM jobs WHERE id = ?'),
      deleteBatches: this.db.prepare('DELETE FROM task_batches WHERE job_id = ?'),
      deleteOutcomes: this.db.prepare('DELETE FROM outcomes WHERE job_id = ?'),
      listJobs: this.db.prepare('SELECT record FROM jobs').pluck(),
      jobCode: this.db.prepare('SELECT program, args FROM jobs WHERE id = ?'),
      findBatch: this.db.prepare(
        'SELECT first_index AS firstIndex, count FROM task_batches WHERE job_id = ? AND batch_id = ?',
      ),
      batchStart: this.db
        .prepare(
          'SELECT first_index FROM task_batches WHERE job_id = ? AND first_index <= ? ORDER BY first_index DESC LIMIT 1',
        )
        .pluck(),
      batchesFrom: this.db.prepare(
        'SELECT first_index AS firstIndex, inputs FROM task_batches WHERE job_id = ? AND first_index >= ? ORDER BY first_index',
      ),
      latest: this.db.prepare(
        `SELECT ${outcomeColumns} FROM outcomes WHERE job_id = ? AND ok = 1 ORDER BY seq DESC LIMIT ?`,
      ),
      errorGroups: this.db.prepare(
        `SELECT json_extract(payload, '$.message') AS message, count(*) AS count, max(seq) AS seq
         FROM outcomes WHERE job_id = ? AND ok = 0 GROUP BY message ORDER BY count DESC LIMIT ?`,
      ),
      bySeq: this.db.prepare(`SELECT ${outcomeColumns} FROM outcomes WHERE job_id = ? AND seq = ?`),
      outcomes: {
        all: this.db.prepare(
          `SELECT ${outcomeColumns} FROM outcomes WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
        ),
        results: this.db.prepare(
          `SELECT ${outcomeColumns} FROM outcomes WHERE job_id = ? AND seq > ? AND ok = 1 ORDER BY seq LIMIT ?`,
        ),
        errors: this.db.prepare(
          `SELECT ${outcomeColumns} FROM outcomes WHERE job_id = ? AND seq > ? AND ok = 0 ORDER BY seq LIMIT ?`,
        ),
      },
    };
  }

  /** The job's settled indexes, read from its outcomes the first time they are needed. */
  private settledSet(jobId: string): SettledSet {
    let set = this.settled.get(jobId);
    if (set) {
      // Most recently used last: the oldest is evicted first (it can always be read again).
      this.settled.delete(jobId);
      this.settled.set(jobId, set);
    } else {
      if (this.settled.size >= SETTLED_CACHE_JOBS) {
        this.settled.delete(this.settled.keys().next().value!);
      }
      set = new SettledSet();
      for (const index of this.stmt.settledIndexes.iterate(jobId) as Iterable<number>)
        set.add(index);
      this.settled.set(jobId, set);
    }
    return set;
  }

  private write(write: Write | undefined, jobUpdate?: JobRecord): Promise<void> {
    if (!this.pending) {
      this.pending = { writes: [], jobUpdates: new Map(), waiters: [] };
      setImmediate(() => this.commit());
    }
    const pending = this.pending;
    if (write) pending.writes.push(write);
    if (jobUpdate) pending.jobUpdates.set(jobUpdate.id, { ...jobUpdate });
    return new Promise((resolve, reject) => pending.waiters.push({ resolve, reject }));
  }

  private commit(): void {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    try {
      this.db.transaction(() => {
        for (const write of pending.writes) write();
        for (const job of pending.jobUpdates.values()) {
          this.stmt.updateJob.run(JSON.stringify(job), job.id);
        }
      })();
    } catch (err) {
      // The transaction rolled back: forget cached settled sets, they may hold rolled-back bits.
      this.settled.clear();
      for (const waiter of pending.waiters) waiter.reject(err);
      return;
    }
    for (const waiter of pending.waiters) waiter.resolve();
  }

  createJob(job: JobRecord, code: JobCode): Promise<void> {
    const record = JSON.stringify(job);
    return this.write(() =>
      this.stmt.insertJob.run(job.id, job.owner, code.program, code.argsJson, record),
    );
  }

  updateJob(job: JobRecord): Promise<void> {
    return this.write(undefined, job);
  }

  appendTasks(jobId: string, batchId: string, firstIndex: number, inputs: string[]): Promise<void> {
    return this.write(() => {
      this.stmt.insertBatch.run(jobId, firstIndex, inputs.length, batchId, inputs.join('\n'));
    });
  }

  settle(jobId: string, outcomes: StoredOutcome[]): Promise<void> {
    return this.write(() => {
      const settled = this.settledSet(jobId);
      let rows = '';
      for (const o of outcomes) {
        if (settled.has(o.index)) continue; // exactly once, here too
        settled.add(o.index);
        rows += `${rows ? ',' : ''}[${o.seq},${o.index},${o.ok ? 1 : 0},${o.payload}]`;
      }
      if (rows) this.stmt.insertOutcomes.run(jobId, `[${rows}]`);
    });
  }

  deleteJob(jobId: string): Promise<void> {
    return this.write(() => {
      this.stmt.deleteBatches.run(jobId);
      this.stmt.deleteOutcomes.run(jobId);
      this.stmt.deleteJob.run(jobId);
      this.settled.delete(jobId);
    });
  }

  listJobs(): Promise<JobRecord[]> {
    const rows = this.stmt.listJobs.all() as string[];
    return Promise.resolve(rows.map((row) => JSON.parse(row) as JobRecord));
  }

  getJobCode(jobId: string): Promise<JobCode | undefined> {
    const row = this.stmt.jobCode.get(jobId) as { program: string; args: string } | undefined;
    return Promise.resolve(row && { program: row.program, argsJson: row.args });
  }

  findBatch(jobId: string, batchId: string): Promise<StoredBatch | undefined> {
    return Promise.resolve(this.stmt.findBatch.get(jobId, batchId) as StoredBatch | undefined);
  }

  readQueued(jobId: string, fromIndex: number, limit: number): Promise<StoredTask[]> {
    const settled = this.settledSet(jobId);
    const start = (this.stmt.batchStart.get(jobId, fromIndex) as number | undefined) ?? fromIndex;
    const out: StoredTask[] = [];
    const rows = this.stmt.batchesFrom.iterate(jobId, start) as Iterable<{
      firstIndex: number;
      inputs: string;
    }>;
    for (const row of rows) {
      const inputs = row.inputs.split('\n');
      for (let i = 0; i < inputs.length && out.length < limit; i++) {
        const index = row.firstIndex + i;
        if (index >= fromIndex && !settled.has(index)) out.push({ index, input: inputs[i]! });
      }
      if (out.length >= limit) break;
    }
    return Promise.resolve(out);
  }

  readOutcomes(
    jobId: string,
    afterSeq: number,
    kind: OutcomeKind,
    limit: number,
  ): Promise<StoredOutcome[]> {
    const rows = this.stmt.outcomes[kind].all(jobId, afterSeq, limit) as RawOutcome[];
    return Promise.resolve(rows.map(fromRaw));
  }

  latestResults(jobId: string, limit: number): Promise<StoredOutcome[]> {
    const rows = this.stmt.latest.all(jobId, limit) as RawOutcome[];
    return Promise.resolve(rows.map(fromRaw));
  }

  errorGroups(jobId: string, limit: number): Promise<StoredErrorGroup[]> {
    const groups = this.stmt.errorGroups.all(jobId, limit) as {
      message: string | null;
      count: number;
      seq: number;
    }[];
    return Promise.resolve(
      groups.map((g) => ({
        message: g.message ?? '',
        count: g.count,
        example: fromRaw(this.stmt.bySeq.get(jobId, g.seq) as RawOutcome),
      })),
    );
  }

  async close(): Promise<void> {
    if (this.pending) this.commit();
    this.db.close();
    return Promise.resolve();
  }
}

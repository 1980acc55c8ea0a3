import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import type {
  JobCode,
  JobRecord,
  JobStore,
  StoredBatch,
  StoredErrorGroup,
  StoredOutcome,
  StoredTask,
} from './job-store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  program TEXT NOT NULL,
  args TEXT NOT NULL,
  record TEXT NOT NULL
);
-- state: 0 queued, 1 settled. seq/ok/output are set when the task settles.
CREATE TABLE IF NOT EXISTS tasks (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  state INTEGER NOT NULL DEFAULT 0,
  input TEXT NOT NULL,
  seq INTEGER,
  ok INTEGER,
  output TEXT,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tasks_by_seq ON tasks (job_id, seq) WHERE seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS batches (
  job_id TEXT NOT NULL,
  batch_id TEXT NOT NULL,
  first_index INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (job_id, batch_id)
) WITHOUT ROWID;
`;

type Write = () => void;
type RawOutcome = { seq: number; index: number; ok: number; payload: string };
const fromRaw = (r: RawOutcome): StoredOutcome => ({ ...r, ok: r.ok === 1 });
interface Pending {
  writes: Write[];
  jobUpdates: Map<string, JobRecord>;
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}

/**
 * The default store: one SQLite file (better-sqlite3, WAL) in the data directory.
 *
 * Group commit: writes queue up during a turn of the event loop and commit in one transaction
 * on the next `setImmediate`, so a burst of settlements costs one fsync-free WAL append.
 * `synchronous=NORMAL` in WAL mode survives a process crash (SIGKILL); only an OS crash or
 * power loss can drop the last commits.
 */
export class SqliteJobStore implements JobStore {
  private readonly db: Database.Database;
  private pending: Pending | undefined;
  private readonly stmt;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'tabgrid.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmt = {
      insertJob: this.db.prepare(
        'INSERT INTO jobs (id, owner, program, args, record) VALUES (?, ?, ?, ?, ?)',
      ),
      updateJob: this.db.prepare('UPDATE jobs SET record = ? WHERE id = ?'),
      insertTask: this.db.prepare(
        'INSERT OR IGNORE INTO tasks (job_id, idx, input) VALUES (?, ?, ?)',
      ),
      insertBatch: this.db.prepare(
        'INSERT OR IGNORE INTO batches (job_id, batch_id, first_index, count) VALUES (?, ?, ?, ?)',
      ),
      settle: this.db.prepare(
        'UPDATE tasks SET state = 1, seq = ?, ok = ?, output = ? WHERE job_id = ? AND idx = ? AND state = 0',
      ),
      deleteJob: this.db.prepare('DELETE FROM jobs WHERE id = ?'),
      deleteTasks: this.db.prepare('DELETE FROM tasks WHERE job_id = ?'),
      deleteBatches: this.db.prepare('DELETE FROM batches WHERE job_id = ?'),
      listJobs: this.db.prepare('SELECT record FROM jobs').pluck(),
      jobCode: this.db.prepare('SELECT program, args FROM jobs WHERE id = ?'),
      findBatch: this.db.prepare(
        'SELECT first_index AS firstIndex, count FROM batches WHERE job_id = ? AND batch_id = ?',
      ),
      queued: this.db.prepare(
        'SELECT idx AS "index", input FROM tasks WHERE job_id = ? AND idx >= ? AND state = 0 ORDER BY idx LIMIT ?',
      ),
      latest: this.db.prepare(
        `SELECT seq, idx AS "index", ok, output AS payload FROM tasks
         WHERE job_id = ? AND seq IS NOT NULL AND ok = 1 ORDER BY seq DESC LIMIT ?`,
      ),
      errorGroups: this.db.prepare(
        `SELECT json_extract(output, '$.message') AS message, count(*) AS count, max(seq) AS seq
         FROM tasks WHERE job_id = ? AND seq IS NOT NULL AND ok = 0
         GROUP BY message ORDER BY count DESC LIMIT ?`,
      ),
      bySeq: this.db.prepare(
        `SELECT seq, idx AS "index", ok, output AS payload FROM tasks WHERE job_id = ? AND seq = ?`,
      ),
      outcomes: {
        all: this.outcomeQuery(''),
        results: this.outcomeQuery('AND ok = 1'),
        errors: this.outcomeQuery('AND ok = 0'),
      },
    };
  }

  private outcomeQuery(filter: string) {
    return this.db.prepare(
      `SELECT seq, idx AS "index", ok, output AS payload FROM tasks
       WHERE job_id = ? AND seq > ? ${filter} ORDER BY seq LIMIT ?`,
    );
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
      this.stmt.insertBatch.run(jobId, batchId, firstIndex, inputs.length);
      for (let i = 0; i < inputs.length; i++) {
        this.stmt.insertTask.run(jobId, firstIndex + i, inputs[i]);
      }
    });
  }

  settle(jobId: string, outcomes: StoredOutcome[]): Promise<void> {
    return this.write(() => {
      for (const o of outcomes)
        this.stmt.settle.run(o.seq, o.ok ? 1 : 0, o.payload, jobId, o.index);
    });
  }

  deleteJob(jobId: string): Promise<void> {
    return this.write(() => {
      this.stmt.deleteTasks.run(jobId);
      this.stmt.deleteBatches.run(jobId);
      this.stmt.deleteJob.run(jobId);
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
    return Promise.resolve(this.stmt.queued.all(jobId, fromIndex, limit) as StoredTask[]);
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

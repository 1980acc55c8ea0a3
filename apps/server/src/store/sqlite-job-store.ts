import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import { makeDatabasePrivate, tighten } from './private-files.js';
import { SettledSet } from './settled-set.js';
import type {
  JobCode,
  JobRecord,
  JobStore,
  StoredBatch,
  StoredErrorGroup,
  StoredOutcome,
  StoredTask,
  TaskTries,
} from './job-store.js';

/*
 * Tasks are stored one row per submitted batch, their inputs joined by "\n" (every input is
 * single-line JSON text): appending 1,000 tasks is one insert. Outcomes are stored the same way:
 * one row per settle call (one per job per commit), holding lines "seq,index,ok,payload" in seq
 * order; failures are also kept one row each in `outcome_errors`, for the error views. Which tasks
 * are settled is derived from the outcomes (SettledSet), so settling a task never rewrites its
 * task row: settling a frame of outcomes is one small insert (plus one per failure).
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
`;

type Write = () => void;
interface Pending {
  writes: Write[];
  jobUpdates: Map<string, JobRecord>;
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}
/** Jobs whose settled bitmaps stay cached (one bit per task each). */
const SETTLED_CACHE_JOBS = 256;
type RawError = { seq: number; index: number; payload: string };
const fromError = (r: RawError): StoredOutcome => ({ ...r, ok: false });

/**
 * One stored line. JSON text only holds a raw newline as whitespace, so a payload's newlines
 * become spaces (the same JSON value) and a line never spans two.
 */
function outcomeLine(o: StoredOutcome): string {
  const payload = o.payload.includes('\n') ? o.payload.replace(/\n/g, ' ') : o.payload;
  return `${o.seq},${o.index},${o.ok ? 1 : 0},${payload}`;
}

/** The outcomes of one `outcome_batches` row, in seq order. */
function parseLines(lines: string): StoredOutcome[] {
  const out: StoredOutcome[] = [];
  for (const line of lines.split('\n')) {
    const a = line.indexOf(',');
    const b = line.indexOf(',', a + 1);
    out.push({
      seq: Number(line.slice(0, a)),
      index: Number(line.slice(a + 1, b)),
      ok: line.charCodeAt(b + 1) === 49, // '1'
      payload: line.slice(b + 3),
    });
  }
  return out;
}

/** The task index of each line, without building outcomes. */
function* lineIndexes(lines: string): Generator<number> {
  let start = 0;
  while (start < lines.length) {
    const a = lines.indexOf(',', start);
    const b = lines.indexOf(',', a + 1);
    yield Number(lines.slice(a + 1, b));
    const end = lines.indexOf('\n', b);
    if (end < 0) return;
    start = end + 1;
  }
}

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
    const path = join(dataDir, 'tabgrid.sqlite');
    makeDatabasePrivate(dataDir, path); // tasks, results and keys: readable by this user only
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    tighten(path);
    const errorColumns = 'seq, idx AS "index", payload';
    this.stmt = {
      insertJob: this.db.prepare(
        'INSERT INTO jobs (id, owner, program, args, record) VALUES (?, ?, ?, ?, ?)',
      ),
      updateJob: this.db.prepare('UPDATE jobs SET record = ? WHERE id = ?'),
      insertBatch: this.db.prepare(
        'INSERT OR IGNORE INTO task_batches (job_id, first_index, count, batch_id, inputs) VALUES (?, ?, ?, ?, ?)',
      ),
      insertOutcomes: this.db.prepare(
        'INSERT INTO outcome_batches (job_id, first_seq, lines) VALUES (?, ?, ?)',
      ),
      insertError: this.db.prepare(
        'INSERT INTO outcome_errors (job_id, seq, idx, payload) VALUES (?, ?, ?, ?)',
      ),
      allOutcomeLines: this.db
        .prepare('SELECT lines FROM outcome_batches WHERE job_id = ?')
        .pluck(),
      deleteJob: this.db.prepare('DELETE FROM jobs WHERE id = ?'),
      deleteBatches: this.db.prepare('DELETE FROM task_batches WHERE job_id = ?'),
      deleteOutcomes: this.db.prepare('DELETE FROM outcome_batches WHERE job_id = ?'),
      deleteErrors: this.db.prepare('DELETE FROM outcome_errors WHERE job_id = ?'),
      saveTries: this.db.prepare(
        'INSERT OR REPLACE INTO task_tries (job_id, idx, attempts, error_retries) VALUES (?, ?, ?, ?)',
      ),
      tries: this.db.prepare(
        'SELECT idx AS "index", attempts, error_retries AS errorRetries FROM task_tries WHERE job_id = ?',
      ),
      deleteTries: this.db.prepare('DELETE FROM task_tries WHERE job_id = ?'),
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
      outcomeStart: this.db
        .prepare(
          'SELECT first_seq FROM outcome_batches WHERE job_id = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1',
        )
        .pluck(),
      outcomesFrom: this.db
        .prepare(
          'SELECT lines FROM outcome_batches WHERE job_id = ? AND first_seq >= ? ORDER BY first_seq',
        )
        .pluck(),
      outcomesNewestFirst: this.db
        .prepare('SELECT lines FROM outcome_batches WHERE job_id = ? ORDER BY first_seq DESC')
        .pluck(),
      errors: this.db.prepare(
        `SELECT ${errorColumns} FROM outcome_errors WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      errorGroups: this.db.prepare(
        `SELECT json_extract(payload, '$.message') AS message, count(*) AS count, max(seq) AS seq
         FROM outcome_errors WHERE job_id = ? GROUP BY message ORDER BY count DESC LIMIT ?`,
      ),
      errorBySeq: this.db.prepare(
        `SELECT ${errorColumns} FROM outcome_errors WHERE job_id = ? AND seq = ?`,
      ),
    };
  }

  /** Stores outcomes (in seq order) as one batch row, and each failure in `outcome_errors`. */
  private insertOutcomes(jobId: string, outcomes: StoredOutcome[]): void {
    let lines = '';
    for (const o of outcomes) {
      lines += lines ? `\n${outcomeLine(o)}` : outcomeLine(o);
      if (!o.ok) this.stmt.insertError.run(jobId, o.seq, o.index, o.payload);
    }
    this.stmt.insertOutcomes.run(jobId, outcomes[0]!.seq, lines);
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
      for (const lines of this.stmt.allOutcomeLines.iterate(jobId) as Iterable<string>) {
        for (const index of lineIndexes(lines)) set.add(index);
      }
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
      const fresh: StoredOutcome[] = [];
      for (const o of outcomes) {
        if (settled.has(o.index)) continue; // exactly once, here too
        settled.add(o.index);
        fresh.push(o);
      }
      if (fresh.length > 0) this.insertOutcomes(jobId, fresh);
    });
  }

  saveTries(jobId: string, index: number, tries: TaskTries): Promise<void> {
    return this.write(() => {
      this.stmt.saveTries.run(jobId, index, tries.attempts, tries.errorRetries);
    });
  }

  deleteJob(jobId: string): Promise<void> {
    return this.write(() => {
      this.stmt.deleteBatches.run(jobId);
      this.stmt.deleteOutcomes.run(jobId);
      this.stmt.deleteErrors.run(jobId);
      this.stmt.deleteTries.run(jobId);
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

  readTries(jobId: string): Promise<Map<number, TaskTries>> {
    const tries = new Map<number, TaskTries>();
    const rows = this.stmt.tries.all(jobId) as (TaskTries & { index: number })[];
    if (rows.length === 0) return Promise.resolve(tries); // the usual case: nothing ever failed
    // Rows of settled tasks stay until the job is deleted (settling never writes here).
    const settled = this.settledSet(jobId);
    for (const { index, attempts, errorRetries } of rows) {
      if (!settled.has(index)) tries.set(index, { attempts, errorRetries });
    }
    return Promise.resolve(tries);
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
    if (kind === 'errors') {
      const rows = this.stmt.errors.all(jobId, afterSeq, limit) as RawError[];
      return Promise.resolve(rows.map(fromError));
    }
    const start = (this.stmt.outcomeStart.get(jobId, afterSeq + 1) as number | undefined) ?? 0;
    const out: StoredOutcome[] = [];
    for (const lines of this.stmt.outcomesFrom.iterate(jobId, start) as Iterable<string>) {
      for (const o of parseLines(lines)) {
        if (o.seq > afterSeq && (kind === 'all' || o.ok) && out.length < limit) out.push(o);
      }
      if (out.length >= limit) break;
    }
    return Promise.resolve(out);
  }

  latestResults(jobId: string, limit: number): Promise<StoredOutcome[]> {
    const out: StoredOutcome[] = [];
    if (limit <= 0) return Promise.resolve(out);
    for (const lines of this.stmt.outcomesNewestFirst.iterate(jobId) as Iterable<string>) {
      const batch = parseLines(lines);
      for (let i = batch.length - 1; i >= 0 && out.length < limit; i--) {
        if (batch[i]!.ok) out.push(batch[i]!);
      }
      if (out.length >= limit) break;
    }
    return Promise.resolve(out);
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
        example: fromError(this.stmt.errorBySeq.get(jobId, g.seq) as RawError),
      })),
    );
  }

  async close(): Promise<void> {
    if (this.pending) this.commit();
    this.db.close();
    return Promise.resolve();
  }
}

import type pg from 'pg';
import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import type {
  JobCode,
  JobRecord,
  JobStore,
  OutcomeProvenance,
  StoredBatch,
  StoredErrorGroup,
  StoredEventRow,
  StoredLogRow,
  StoredMessage,
  StoredNote,
  StoredOutcome,
  StoredSeriesLines,
  StoredSeriesRow,
  StoredTask,
  TaskTries,
} from '../job-store.js';
import { storedTask, type CarriedValue } from '../job-store.js';
import { copyCarried } from '../packed-column.js';
import { decodeBatch, decodeErrorGroupRow, decodeJobCode, decodeTries } from '../stored-rows.js';
import { PgFeedStore, sqlLimit } from './pg-feed-store.js';
import {
  DELETE_JOB,
  INSERT_BATCH,
  KIND_FILTER,
  OUTCOME_COLUMNS,
  TASK_INPUT,
  PROVENANCE_COLUMNS,
  UNSETTLED,
  addOutcomes,
  outcomeColumns,
  packedCells,
} from './pg-job-statements.js';
import { insertSettles, type PendingSettle } from './pg-settle.js';

import { PgGroupCommit } from './pg-group-commit.js';
import { PgCluster, TALLY, recordFromRow } from './pg-cluster.js';
import { openPool, unreachable, type PgStoreOptions } from './pg-pool.js';
import {
  decodeOutcomeRow,
  decodeProvenanceRow,
  decodeQueuedRow,
  decodeTaskInputRow,
  type OutcomeRow,
} from './pg-rows.js';

export type { PgStoreOptions };

/** An outcome as the store returns it: exactly these keys, provenance only when asked for. */
function outcomeOf(row: OutcomeRow, provenance?: OutcomeProvenance): StoredOutcome {
  const o: StoredOutcome = { seq: row.seq, index: row.index, ok: row.ok, payload: row.payload };
  if (provenance) o.provenance = provenance;
  return o;
}

/**
 * The JobStore on PostgreSQL (node-postgres), chosen by TABGRID_DATABASE_URL: the tables of
 * ./pg-migrations.ts, one row per task and per outcome, so that several nodes on one database
 * can lease tasks row by row and the first outcome for (job, index) wins by a unique key.
 *
 * Writes group-commit (./pg-group-commit.ts): one transaction per commit, each write a statement
 * or two however many tasks or outcomes it carries (arrays through `unnest`). Reads go straight
 * to the pool and see what is committed.
 */
export class PgJobStore implements JobStore {
  private readonly pool: pg.Pool;
  private readonly ready: Promise<void>;
  private readonly commits: PgGroupCommit;
  private readonly feeds: PgFeedStore;
  /**
   * The statements of several nodes on this database (claims, the database's seqs, state as
   * columns). With `cluster`, records written by updateJob never overwrite the job's counters or
   * state: those change only through these (see ./pg-cluster.ts).
   */
  readonly cluster: PgCluster;
  private closing: Promise<void> | undefined;
  /** Per job, the latest findBatch's answer: the next one waits for it (see findBatch). */
  private readonly batchLookups = new Map<string, Promise<unknown>>();

  constructor(options: PgStoreOptions) {
    const { pool, ready } = openPool(options);
    this.pool = pool;
    this.ready = ready;
    const clustered = options.cluster ?? false;
    this.commits = new PgGroupCommit(pool, ready, clustered);
    const read = (text: string, values?: unknown[]) => this.query(text, values);
    this.feeds = new PgFeedStore(read, this.commits, clustered);
    this.cluster = new PgCluster(pool, ready, read, this.commits, this.feeds, {
      url: options.url,
      schema: options.schema ?? 'public',
    });
  }

  /** A store whose database is reachable and migrated (fails fast, saying what to do). */
  static async open(options: PgStoreOptions): Promise<PgJobStore> {
    const store = new PgJobStore(options);
    try {
      await store.ready;
    } catch (err) {
      await store.pool.end().catch(() => undefined);
      throw unreachable(options.url, err);
    }
    return store;
  }

  /** A read on any pooled connection, once the schema is current. */
  private async query(text: string, values?: unknown[]): Promise<unknown[]> {
    await this.ready;
    return (await this.pool.query<Record<string, unknown>>(text, values)).rows;
  }

  createJob(job: JobRecord, code: JobCode): Promise<void> {
    const values = [
      job.id,
      job.owner,
      job.name,
      job.created,
      code.program,
      code.argsJson,
      JSON.stringify(job),
      job.state,
      job.total,
      job.finished,
      job.failed,
      job.lastSeq + 1,
      job.cancelReason,
    ];
    return this.commits.add(async (client) => {
      await client.query(
        `INSERT INTO jobs (id, owner, name, created, program, args, record, state, total, finished, failed, next_seq, cancel_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        values,
      );
    });
  }

  updateJob(job: JobRecord): Promise<void> {
    return this.commits.add(undefined, job);
  }

  appendTasks(
    jobId: string,
    batchId: string,
    firstIndex: number,
    inputs: CarriedValue[],
    submittedAt?: number,
  ): Promise<void> {
    // Copied now: what the inputs were at this call is what commits. A packed input (typed
    // arrays) goes to input_bytes as raw bytes, its text column holding the mark.
    const cells = inputs.map((input) => packedCells(copyCarried(input)));
    const texts = cells.map(([text]) => text);
    const bytes = cells.map(([, packed]) => packed);
    const values = [jobId, firstIndex, inputs.length, batchId, texts, submittedAt ?? null, bytes];
    return this.commits.add(async (client) => {
      await client.query(INSERT_BATCH, values);
    });
  }

  /**
   * Settles issued one after another (a worker frame each, under load) commit as one INSERT:
   * the outcomes of all of them, in issue order, so the first for (job, index) still wins.
   */
  settle(jobId: string, outcomes: StoredOutcome[], series?: StoredSeriesLines[]): Promise<void> {
    if (outcomes.length === 0 && series === undefined) return this.commits.add(undefined);
    const columns = outcomeColumns();
    addOutcomes(columns, jobId, outcomes);
    // Copied now, as the outcomes are.
    const lines = series?.map((s) => ({ label: s.label, lines: [...s.lines] }));
    const settle: PendingSettle = { jobId, columns, ...(lines ? { series: lines } : {}) };
    return this.commits.addMerged('settle', settle, (client, settles) =>
      insertSettles(client, this.feeds, settles),
    );
  }

  saveTries(jobId: string, index: number, tries: TaskTries): Promise<void> {
    const values = [jobId, index, tries.attempts, tries.errorRetries];
    return this.commits.add(async (client) => {
      await client.query(
        `INSERT INTO task_tries (job_id, idx, attempts, error_retries) VALUES ($1, $2, $3, $4)
         ON CONFLICT (job_id, idx) DO UPDATE SET attempts = excluded.attempts, error_retries = excluded.error_retries`,
        values,
      );
    });
  }

  deleteJob(jobId: string): Promise<void> {
    return this.commits.add(async (client) => {
      await client.query(DELETE_JOB, [jobId]);
    });
  }

  appendLogs(jobId: string, firstSeq: number, lines: string[]): Promise<void> {
    return this.feeds.appendLines('job_logs', jobId, firstSeq, lines);
  }

  readLogs(jobId: string, afterSeq: number, limit: number): Promise<StoredLogRow[]> {
    return this.feeds.readLogs(jobId, afterSeq, limit);
  }

  appendEvents(jobId: string, firstSeq: number, lines: string[]): Promise<void> {
    return this.feeds.appendLines('job_events', jobId, firstSeq, lines);
  }

  readEvents(jobId: string, afterSeq: number, limit: number): Promise<StoredEventRow[]> {
    return this.feeds.readEvents(jobId, afterSeq, limit);
  }

  readSeries(
    jobId: string,
    label: string,
    afterSeq: number,
    limit: number,
  ): Promise<StoredSeriesRow[]> {
    return this.feeds.readSeries(jobId, label, afterSeq, limit);
  }

  seriesLabels(jobId: string, limit: number): Promise<string[]> {
    return this.feeds.seriesLabels(jobId, limit);
  }

  appendMessage(
    jobId: string,
    seq: number,
    messageId: string,
    dataJson: string,
    at: number,
  ): Promise<void> {
    return this.feeds.appendMessage(jobId, seq, messageId, dataJson, at);
  }

  findMessage(jobId: string, messageId: string): Promise<number | undefined> {
    return this.feeds.findMessage(jobId, messageId);
  }

  readMessages(jobId: string, afterSeq: number, limit: number): Promise<StoredMessage[]> {
    return this.feeds.readMessages(jobId, afterSeq, limit);
  }

  addNote(owner: string, at: number, text: string, keep: number): Promise<void> {
    return this.feeds.addNote(owner, at, text, keep);
  }

  readNotes(owner: string | undefined, since: number, limit: number): Promise<StoredNote[]> {
    return this.feeds.readNotes(owner, since, limit);
  }

  async listJobs(): Promise<JobRecord[]> {
    const rows = await this.query(`SELECT record, ${TALLY} FROM jobs ORDER BY pos`);
    return rows.map((row) => recordFromRow(row));
  }

  async getJobCode(jobId: string): Promise<JobCode | undefined> {
    const [row] = await this.query('SELECT program, args AS "argsJson" FROM jobs WHERE id = $1', [
      jobId,
    ]);
    return row === undefined ? undefined : decodeJobCode(row);
  }

  async latestJobByName(owner: string | undefined, name: string): Promise<JobRecord | undefined> {
    const [row] =
      owner === undefined
        ? await this.query(
            `SELECT record, ${TALLY} FROM jobs WHERE name = $1 ORDER BY created DESC, pos DESC LIMIT 1`,
            [name],
          )
        : await this.query(
            `SELECT record, ${TALLY} FROM jobs WHERE name = $1 AND owner = $2 ORDER BY created DESC, pos DESC LIMIT 1`,
            [name, owner],
          );
    return row === undefined ? undefined : recordFromRow(row);
  }

  async readTries(jobId: string): Promise<Map<number, TaskTries>> {
    // Rows of settled tasks stay until the job is deleted (settling never writes here).
    const rows = await this.query(
      `SELECT t.idx AS "index", t.attempts, t.error_retries AS "errorRetries" FROM task_tries t
       WHERE t.job_id = $1 AND ${UNSETTLED}`,
      [jobId],
    );
    const tries = new Map<number, TaskTries>();
    for (const row of rows) {
      const { index, attempts, errorRetries } = decodeTries(row);
      tries.set(index, { attempts, errorRetries });
    }
    return tries;
  }

  /**
   * Answers in call order per job, whatever order the lookups' queries finish in: the core
   * gives a batch its indexes right after this answer (core/scheduler.ts submitEncoded), and a
   * task's index is its position in the submission order; with SQLite's synchronous reads that
   * order holds by itself, with a pool of connections it must be kept.
   */
  findBatch(jobId: string, batchId: string): Promise<StoredBatch | undefined> {
    const lookup = this.query(
      'SELECT first_index AS "firstIndex", count FROM task_batches WHERE job_id = $1 AND batch_id = $2',
      [jobId, batchId],
    ).then(([row]) => (row === undefined ? undefined : decodeBatch(row)));
    lookup.catch(() => undefined); // its error reaches the caller through `answer`
    const previous = this.batchLookups.get(jobId);
    // After the previous answer, whether it failed or not (its caller got its error).
    const answer =
      previous === undefined
        ? lookup
        : previous.then(
            () => lookup,
            () => lookup,
          );
    this.batchLookups.set(jobId, answer);
    const forget = () => {
      if (this.batchLookups.get(jobId) === answer) this.batchLookups.delete(jobId);
    };
    answer.then(forget, forget);
    return answer;
  }

  async readTask(jobId: string, index: number): Promise<StoredTask | undefined> {
    const [row] = await this.query(
      `SELECT ${TASK_INPUT} FROM tasks WHERE job_id = $1 AND idx = $2`,
      [jobId, index],
    );
    return row === undefined ? undefined : { index, input: decodeTaskInputRow(row).input };
  }

  async readQueued(jobId: string, fromIndex: number, limit: number): Promise<StoredTask[]> {
    const rows = await this.query(
      `SELECT t.idx AS "index", t.input, t.input_bytes AS "inputBytes", t.submitted_at AS "submittedAt" FROM tasks t
       WHERE t.job_id = $1 AND t.idx >= $2 AND ${UNSETTLED} ORDER BY t.idx LIMIT $3`,
      [jobId, fromIndex, sqlLimit(limit)],
    );
    return rows.map((row) => {
      const task = decodeQueuedRow(row);
      return storedTask(task.index, task.input, task.submittedAt);
    });
  }

  async readOutcomes(
    jobId: string,
    afterSeq: number,
    kind: OutcomeKind,
    limit: number,
    options?: { provenance?: boolean },
  ): Promise<StoredOutcome[]> {
    const withProvenance = options?.provenance === true;
    const columns = withProvenance ? `${OUTCOME_COLUMNS}, ${PROVENANCE_COLUMNS}` : OUTCOME_COLUMNS;
    const rows = await this.query(
      `SELECT ${columns} FROM outcomes WHERE job_id = $1 AND seq > $2 ${KIND_FILTER[kind]}
       ORDER BY seq LIMIT $3`,
      [jobId, afterSeq, sqlLimit(limit)],
    );
    return rows.map((row) =>
      outcomeOf(decodeOutcomeRow(row), withProvenance ? decodeProvenanceRow(row) : undefined),
    );
  }

  async latestResults(jobId: string, limit: number): Promise<StoredOutcome[]> {
    if (limit <= 0) return [];
    const rows = await this.query(
      `SELECT ${OUTCOME_COLUMNS} FROM outcomes WHERE job_id = $1 AND ok ORDER BY seq DESC LIMIT $2`,
      [jobId, sqlLimit(limit)],
    );
    return rows.map((row) => outcomeOf(decodeOutcomeRow(row)));
  }

  async errorGroups(jobId: string, limit: number): Promise<StoredErrorGroup[]> {
    // Equal counts in the code-unit order of their keys ("C": bytes), as in both other stores.
    const groups = await this.query(
      `SELECT error_key AS message, count(*)::integer AS count, max(seq) AS seq FROM outcomes
       WHERE job_id = $1 AND NOT ok GROUP BY error_key ORDER BY count DESC, error_key COLLATE "C"
       LIMIT $2`,
      [jobId, sqlLimit(limit)],
    );
    if (groups.length === 0) return [];
    const decoded = groups.map((row) => decodeErrorGroupRow(row));
    const examples = await this.query(
      `SELECT ${OUTCOME_COLUMNS} FROM outcomes WHERE job_id = $1 AND seq = ANY($2::bigint[])`,
      [jobId, decoded.map((g) => g.seq)],
    );
    const bySeq = new Map(examples.map((row) => [decodeOutcomeRow(row).seq, row]));
    return decoded.map((g) => ({
      message: g.message ?? '',
      count: g.count,
      example: outcomeOf(decodeOutcomeRow(bySeq.get(g.seq))),
    }));
  }

  /** Commits what is queued, then closes the pool; a second call waits for the first. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.commits.flush();
      await this.pool.end();
    })();
    return this.closing;
  }
}

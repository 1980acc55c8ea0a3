import type Database from 'better-sqlite3';
import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import { LatencyBuckets } from '../latency-buckets.js';
import { GroupCommit } from './group-commit.js';
import type {
  JobCode,
  JobRecord,
  JobStore,
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
} from './job-store.js';
import { storedTask, type CarriedValue } from './job-store.js';
import { PackedReader, carriedAt, carriedInRow, splitPacked } from './packed-column.js';
import { freshSeries } from './feed-lines.js';
import { readNow } from './read-now.js';
import { lineIndexes, outcomeLine, parseLines } from './outcome-lines.js';
import { provenanceText } from './provenance-lines.js';
import { readWithProvenance } from './sqlite-provenance-reads.js';
import { SettledSet } from './settled-set.js';
import { openDatabase } from './sqlite-database.js';
import { SpaceReclaimer } from './sqlite-space.js';
import { SqliteFeedStore } from './sqlite-feed-store.js';
import { prepareJobStatements, type JobStatements } from './sqlite-job-statements.js';
import {
  decodeBatch,
  decodeErrorGroupRow,
  decodeFailureRow,
  decodeJobCode,
  decodeJobRecord,
  decodeOptionalCount,
  decodeOutcomeRow,
  decodeTaskBatch,
  decodeText,
  decodeTries,
} from './stored-rows.js';

/** Jobs whose settled bitmaps stay cached (one bit per task each). */
const SETTLED_CACHE_JOBS = 256;

/** A row of `outcome_errors` as an outcome (failures are the only rows there). */
function failureFromRow(row: unknown): StoredOutcome {
  const { seq, index, payload } = decodeFailureRow(row);
  return { seq, index, ok: false, payload };
}

/**
 * The default store: one SQLite file (better-sqlite3, WAL) in the data directory, at the schema
 * version of ./migrations.ts (tables described there).
 *
 * Writes group-commit (./group-commit.ts), one transaction per commit. Which tasks are settled
 * is derived from the outcomes (a SettledSet per job, cached), so settling a frame of outcomes
 * is one small insert (plus one per failure) and never rewrites a task row.
 *
 * Rows read back are decoded (./stored-rows.ts): records, keys and tries by schema; the hot
 * reads (task batches, outcome lines) by a schema check per batch row and integer checks per
 * line, not per task.
 */
export class SqliteJobStore implements JobStore {
  private readonly db: Database.Database;
  private readonly settled = new Map<string, SettledSet>();
  private readonly stmt: JobStatements;
  private readonly commits: GroupCommit<() => void>;
  private readonly feeds: SqliteFeedStore;
  readonly commitTimes = new LatencyBuckets();
  private readonly space: SpaceReclaimer;

  constructor(dataDir: string) {
    this.db = openDatabase(dataDir, { synchronous: 'NORMAL' });
    this.stmt = prepareJobStatements(this.db);
    this.commits = new GroupCommit((writes, jobUpdates) => {
      try {
        this.db.transaction(() => {
          for (const write of writes) write();
          for (const job of jobUpdates) this.stmt.updateJob.run(JSON.stringify(job), job.id);
        })();
      } catch (err) {
        // The transaction rolled back: forget cached settled sets, they may hold rolled-back bits.
        this.settled.clear();
        throw err;
      }
    }, this.commitTimes);
    this.feeds = new SqliteFeedStore(this.db, this.commits);
    this.space = new SpaceReclaimer(this.db);
  }

  /**
   * Stores outcomes (in seq order) as one batch row, with their provenance beside them, and
   * each failure in `outcome_errors` (with its own).
   */
  private insertOutcomes(jobId: string, outcomes: StoredOutcome[]): void {
    let lines = '';
    for (const o of outcomes) {
      lines += lines ? `\n${outcomeLine(o)}` : outcomeLine(o);
      if (!o.ok) this.stmt.insertError.run(jobId, o.seq, o.index, o.payload, provenanceText([o]));
    }
    // Packed payloads (values holding typed arrays) as raw bytes, in line order.
    const bytes = splitPacked(outcomes.map((o) => o.payload)).bytes;
    this.stmt.insertOutcomes.run(jobId, outcomes[0]!.seq, lines, provenanceText(outcomes), bytes);
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
      for (const lines of this.stmt.allOutcomeLines.iterate(jobId)) {
        for (const index of lineIndexes(decodeText(lines, 'outcome_batches'))) set.add(index);
      }
      this.settled.set(jobId, set);
    }
    return set;
  }

  createJob(job: JobRecord, code: JobCode): Promise<void> {
    const record = JSON.stringify(job);
    return this.commits.add(() =>
      this.stmt.insertJob.run(
        job.id,
        job.owner,
        code.program,
        code.argsJson,
        record,
        job.name,
        job.created,
      ),
    );
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
    // Packed inputs as raw bytes beside the text (./packed-column.ts), split before the commit.
    const { texts, bytes } = splitPacked(inputs);
    return this.commits.add(() => {
      this.stmt.insertBatch.run(
        jobId,
        firstIndex,
        inputs.length,
        batchId,
        texts.join('\n'),
        submittedAt ?? null,
        bytes,
      );
    });
  }

  settle(jobId: string, outcomes: StoredOutcome[], series?: StoredSeriesLines[]): Promise<void> {
    return this.commits.add(() => {
      const settled = this.settledSet(jobId);
      const fresh: StoredOutcome[] = [];
      for (const o of outcomes) {
        if (settled.has(o.index)) continue; // exactly once, here too
        settled.add(o.index);
        fresh.push(o);
      }
      if (fresh.length > 0) this.insertOutcomes(jobId, fresh);
      // Only a settle that carries series pays for them: the plain path stops above.
      if (series !== undefined)
        this.feeds.insertSeries(jobId, freshSeries(series, outcomes, fresh));
    });
  }

  saveTries(jobId: string, index: number, tries: TaskTries): Promise<void> {
    return this.commits.add(() => {
      this.stmt.saveTries.run(jobId, index, tries.attempts, tries.errorRetries);
    });
  }

  deleteJob(jobId: string): Promise<void> {
    const deleted = this.commits.add(() => {
      this.stmt.deleteBatches.run(jobId);
      this.stmt.deleteOutcomes.run(jobId);
      this.stmt.deleteErrors.run(jobId);
      this.stmt.deleteTries.run(jobId);
      this.stmt.deleteJob.run(jobId);
      this.feeds.deleteJob(jobId);
      this.settled.delete(jobId);
    });
    // Its pages go back to the file system once the burst of deletions is over.
    deleted.then(
      () => this.space.soon(),
      () => {},
    );
    return deleted;
  }

  appendLogs(jobId: string, firstSeq: number, lines: string[]): Promise<void> {
    return this.feeds.appendLogs(jobId, firstSeq, lines);
  }

  readLogs(jobId: string, afterSeq: number, limit: number): Promise<StoredLogRow[]> {
    return readNow(() => this.feeds.readLogs(jobId, afterSeq, limit));
  }

  appendEvents(jobId: string, firstSeq: number, lines: string[]): Promise<void> {
    return this.feeds.appendEvents(jobId, firstSeq, lines);
  }

  readEvents(jobId: string, afterSeq: number, limit: number): Promise<StoredEventRow[]> {
    return readNow(() => this.feeds.readEvents(jobId, afterSeq, limit));
  }

  readSeries(
    jobId: string,
    label: string,
    afterSeq: number,
    limit: number,
  ): Promise<StoredSeriesRow[]> {
    return readNow(() => this.feeds.readSeries(jobId, label, afterSeq, limit));
  }

  seriesLabels(jobId: string, limit: number): Promise<string[]> {
    return readNow(() => this.feeds.seriesLabels(jobId, limit));
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
    return readNow(() => this.feeds.findMessage(jobId, messageId));
  }

  readMessages(jobId: string, afterSeq: number, limit: number): Promise<StoredMessage[]> {
    return readNow(() => this.feeds.readMessages(jobId, afterSeq, limit));
  }

  addNote(owner: string, at: number, text: string, keep: number): Promise<void> {
    return this.feeds.addNote(owner, at, text, keep);
  }

  readNotes(owner: string | undefined, since: number, limit: number): Promise<StoredNote[]> {
    return readNow(() => this.feeds.readNotes(owner, since, limit));
  }

  latestJobByName(owner: string | undefined, name: string): Promise<JobRecord | undefined> {
    return readNow(() => this.feeds.latestJobByName(owner, name));
  }

  listJobs(): Promise<JobRecord[]> {
    const rows = this.stmt.listJobs.all();
    return Promise.resolve(rows.map((row) => decodeJobRecord(decodeText(row, 'jobs'))));
  }

  getJobCode(jobId: string): Promise<JobCode | undefined> {
    const row = this.stmt.jobCode.get(jobId);
    return Promise.resolve(row === undefined ? undefined : decodeJobCode(row));
  }

  readTries(jobId: string): Promise<Map<number, TaskTries>> {
    const tries = new Map<number, TaskTries>();
    const rows = this.stmt.tries.all(jobId);
    if (rows.length === 0) return Promise.resolve(tries); // the usual case: nothing ever failed
    // Rows of settled tasks stay until the job is deleted (settling never writes here).
    const settled = this.settledSet(jobId);
    for (const row of rows) {
      const { index, attempts, errorRetries } = decodeTries(row);
      if (!settled.has(index)) tries.set(index, { attempts, errorRetries });
    }
    return Promise.resolve(tries);
  }

  findBatch(jobId: string, batchId: string): Promise<StoredBatch | undefined> {
    const row = this.stmt.findBatch.get(jobId, batchId);
    return Promise.resolve(row === undefined ? undefined : decodeBatch(row));
  }

  readTask(jobId: string, index: number): Promise<StoredTask | undefined> {
    const row = this.stmt.batchAt.get(jobId, index);
    if (row === undefined) return Promise.resolve(undefined);
    const batch = decodeTaskBatch(row);
    // One batch row holds its tasks' inputs, one JSON text (or packed mark) a line.
    const input = carriedInRow(
      batch.inputs.split('\n'),
      index - batch.firstIndex,
      batch.inputBytes,
    );
    return Promise.resolve(input === undefined ? undefined : { index, input });
  }

  readQueued(jobId: string, fromIndex: number, limit: number): Promise<StoredTask[]> {
    const settled = this.settledSet(jobId);
    const start =
      decodeOptionalCount(this.stmt.batchStart.get(jobId, fromIndex), 'task_batches') ?? fromIndex;
    const out: StoredTask[] = [];
    for (const row of this.stmt.batchesFrom.iterate(jobId, start)) {
      const batch = decodeTaskBatch(row);
      const inputs = batch.inputs.split('\n');
      const submittedAt = batch.submittedAt;
      const packed = new PackedReader(batch.inputBytes, 'task_batches');
      for (let i = 0; i < inputs.length && out.length < limit; i++) {
        const index = batch.firstIndex + i;
        // Every mark is read in order, so the next packed value is always the one it names.
        const input = carriedAt(inputs[i]!, packed);
        if (index >= fromIndex && !settled.has(index))
          out.push(storedTask(index, input, submittedAt));
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
    options?: { provenance?: boolean },
  ): Promise<StoredOutcome[]> {
    if (options?.provenance) {
      return Promise.resolve(readWithProvenance(this.stmt, jobId, afterSeq, kind, limit));
    }
    if (kind === 'errors') {
      return Promise.resolve(this.stmt.errors.all(jobId, afterSeq, limit).map(failureFromRow));
    }
    const start =
      decodeOptionalCount(this.stmt.outcomeStart.get(jobId, afterSeq + 1), 'outcome_batches') ?? 0;
    const out: StoredOutcome[] = [];
    for (const row of this.stmt.outcomesFrom.iterate(jobId, start)) {
      const { lines, payloadBytes } = decodeOutcomeRow(row);
      for (const o of parseLines(lines, payloadBytes)) {
        if (o.seq > afterSeq && (kind === 'all' || o.ok) && out.length < limit) out.push(o);
      }
      if (out.length >= limit) break;
    }
    return Promise.resolve(out);
  }

  latestResults(jobId: string, limit: number): Promise<StoredOutcome[]> {
    const out: StoredOutcome[] = [];
    if (limit <= 0) return Promise.resolve(out);
    for (const row of this.stmt.outcomesNewestFirst.iterate(jobId)) {
      const { lines, payloadBytes } = decodeOutcomeRow(row);
      const batch = parseLines(lines, payloadBytes);
      for (let i = batch.length - 1; i >= 0 && out.length < limit; i--) {
        if (batch[i]!.ok) out.push(batch[i]!);
      }
      if (out.length >= limit) break;
    }
    return Promise.resolve(out);
  }

  errorGroups(jobId: string, limit: number): Promise<StoredErrorGroup[]> {
    return Promise.resolve(
      this.stmt.errorGroups.all(jobId, limit).map((row) => {
        const g = decodeErrorGroupRow(row);
        return {
          message: g.message ?? '',
          count: g.count,
          example: failureFromRow(this.stmt.errorBySeq.get(jobId, g.seq)),
        };
      }),
    );
  }

  /** Deleted jobs' pages go back to the file system (see ./sqlite-space.ts). */
  reclaimSpace(): Promise<number> {
    return this.space.now();
  }

  async close(): Promise<void> {
    this.space.stop();
    this.commits.flush();
    this.db.close();
    return Promise.resolve();
  }
}

import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import {
  copyJobRecord,
  type JobCode,
  type JobRecord,
  type JobStore,
  type StoredBatch,
  type StoredErrorGroup,
  type StoredEventRow,
  type StoredLogRow,
  type StoredMessage,
  type StoredNote,
  type StoredOutcome,
  type StoredSeriesLines,
  type StoredSeriesRow,
  type StoredTask,
  type TaskTries,
  storedTask,
  type CarriedValue,
} from './job-store.js';
import { GroupCommit } from './group-commit.js';
import {
  copyCarried,
  copyOutcome,
  copyWithProvenance,
  firstIndexOf,
  seqOf,
  type JobTables,
  type MemoryBatch,
} from './memory-job-tables.js';
import { groupErrors } from './error-message.js';
import { decodeEventLine, decodeLogLine, withoutSeqs } from './feed-lines.js';
import { MemoryFeedData, MemoryFeedStore } from './memory-feed-store.js';
import { readNow } from './read-now.js';
import { insertSorted, upperBound, type Undo } from './sorted-arrays.js';

/**
 * What a MemoryJobStore keeps, standing in for the database file: a store opened again on the
 * same `MemoryJobData` sees every write the previous one committed (durability, in tests).
 */
export class MemoryJobData {
  readonly jobs = new Map<string, JobTables>();
  readonly feeds = new MemoryFeedData();
  nextJob = 0;
}

type Write = (undo: Undo[]) => void;

/**
 * A JobStore held in memory, for tests of the core that need no disk. It keeps the SQLite
 * store's semantics exactly (the conformance suite runs against both): writes group-commit
 * (./group-commit.ts), and a commit that fails (a duplicate job id or outcome seq) is undone as
 * a whole, so every write in it rejects and none of them shows; reads see committed writes
 * only; settling a settled task changes nothing; records and outcomes are copied in and out,
 * so a caller mutating its objects never changes what is stored.
 */
export class MemoryJobStore implements JobStore {
  private closed = false;
  private readonly feeds: MemoryFeedStore;
  private readonly commits = new GroupCommit<Write>((writes, jobUpdates) => {
    const undo: Undo[] = [];
    try {
      for (const write of writes) write(undo);
      // As in SQLite: record updates land after the commit's other writes; a deleted job stays deleted.
      for (const record of jobUpdates) {
        const job = this.tables(record.id)?.job;
        if (!job) continue;
        const before = job.record;
        job.record = record;
        undo.push(() => (job.record = before));
      }
    } catch (err) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      throw err;
    }
  });

  constructor(private readonly data = new MemoryJobData()) {
    this.feeds = new MemoryFeedStore(data.feeds);
  }

  private tables(jobId: string): JobTables | undefined {
    return this.data.jobs.get(jobId);
  }

  /** The job's tables, created (with an undo that removes them) on first write. */
  private tablesForWrite(jobId: string, undo: Undo[]): JobTables {
    let tables = this.data.jobs.get(jobId);
    if (!tables) {
      tables = {
        job: undefined,
        batches: [],
        batchIds: new Map(),
        outcomes: [],
        errors: [],
        settled: new Set(),
        tries: new Map(),
      };
      this.data.jobs.set(jobId, tables);
      undo.push(() => this.data.jobs.delete(jobId));
    }
    return tables;
  }

  /** A read of committed data, refused once closed. */
  private read<T>(read: () => T): Promise<T> {
    return readNow(() => {
      this.checkOpen();
      return read();
    });
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new TabgridError(ErrorCode.INTERNAL, 'The job store is closed: open a new one.');
    }
  }

  private write(write: Write | undefined, jobUpdate?: JobRecord): Promise<void> {
    if (this.closed) {
      return Promise.reject(
        new TabgridError(ErrorCode.INTERNAL, 'The job store is closed: open a new one.'),
      );
    }
    return this.commits.add(write, jobUpdate);
  }

  createJob(job: JobRecord, code: JobCode): Promise<void> {
    const record = copyJobRecord(job);
    const stored = { program: code.program, argsJson: code.argsJson };
    return this.write((undo) => {
      const tables = this.tablesForWrite(record.id, undo);
      if (tables.job) {
        throw new TabgridError(ErrorCode.INTERNAL, `Job ${record.id} is stored already.`);
      }
      tables.job = { record, code: stored, order: this.data.nextJob++ };
      undo.push(() => (tables.job = undefined));
    });
  }

  updateJob(job: JobRecord): Promise<void> {
    return this.write(undefined, job);
  }

  appendTasks(
    jobId: string,
    batchId: string,
    firstIndex: number,
    inputs: CarriedValue[],
    submittedAt?: number,
  ): Promise<void> {
    const batch: MemoryBatch = {
      firstIndex,
      batchId,
      inputs: inputs.map(copyCarried),
      submittedAt,
    };
    return this.write((undo) => {
      const tables = this.tablesForWrite(jobId, undo);
      // As SQLite's INSERT OR IGNORE: a batch id or first index seen before adds nothing.
      if (tables.batchIds.has(batchId)) return;
      const at = upperBound(tables.batches, firstIndex, firstIndexOf);
      if (at > 0 && tables.batches[at - 1]!.firstIndex === firstIndex) return;
      insertSorted(tables.batches, batch, firstIndexOf, undo);
      tables.batchIds.set(batchId, batch);
      undo.push(() => tables.batchIds.delete(batchId));
    });
  }

  settle(jobId: string, outcomes: StoredOutcome[], series?: StoredSeriesLines[]): Promise<void> {
    const copies = outcomes.map(copyWithProvenance);
    const collected = series?.map(({ label, lines }) => ({ label, lines: lines.slice() }));
    return this.write((undo) => {
      const tables = this.tablesForWrite(jobId, undo);
      const dropped = new Set<number>();
      for (const o of copies) {
        if (tables.settled.has(o.index)) {
          dropped.add(o.seq);
          continue; // exactly once, here too
        }
        const at = upperBound(tables.outcomes, o.seq, seqOf);
        if (at > 0 && tables.outcomes[at - 1]!.seq === o.seq) {
          throw new TabgridError(
            ErrorCode.INTERNAL,
            `Job ${jobId} has an outcome ${o.seq} already.`,
          );
        }
        tables.settled.add(o.index);
        undo.push(() => tables.settled.delete(o.index));
        insertSorted(tables.outcomes, o, seqOf, undo);
        if (!o.ok) insertSorted(tables.errors, o, seqOf, undo);
      }
      if (collected) this.feeds.appendSeries(jobId, withoutSeqs(collected, dropped), undo);
    });
  }

  saveTries(jobId: string, index: number, tries: TaskTries): Promise<void> {
    const saved = { attempts: tries.attempts, errorRetries: tries.errorRetries };
    return this.write((undo) => {
      const tables = this.tablesForWrite(jobId, undo);
      const before = tables.tries.get(index);
      tables.tries.set(index, saved);
      undo.push(() => (before ? tables.tries.set(index, before) : tables.tries.delete(index)));
    });
  }

  deleteJob(jobId: string): Promise<void> {
    return this.write((undo) => {
      this.feeds.deleteJob(jobId, undo);
      const tables = this.data.jobs.get(jobId);
      if (!tables) return;
      this.data.jobs.delete(jobId);
      undo.push(() => this.data.jobs.set(jobId, tables));
    });
  }

  appendLogs(jobId: string, firstSeq: number, lines: string[]): Promise<void> {
    const copy = lines.slice();
    return this.write((undo) => this.feeds.appendLines('logs', jobId, firstSeq, copy, undo));
  }

  readLogs(jobId: string, afterSeq: number, limit: number): Promise<StoredLogRow[]> {
    return this.read(() => this.feeds.readLines('logs', jobId, afterSeq, limit, decodeLogLine));
  }

  appendEvents(jobId: string, firstSeq: number, lines: string[]): Promise<void> {
    const copy = lines.slice();
    return this.write((undo) => this.feeds.appendLines('events', jobId, firstSeq, copy, undo));
  }

  readEvents(jobId: string, afterSeq: number, limit: number): Promise<StoredEventRow[]> {
    return this.read(() => this.feeds.readLines('events', jobId, afterSeq, limit, decodeEventLine));
  }

  readSeries(
    jobId: string,
    label: string,
    afterSeq: number,
    limit: number,
  ): Promise<StoredSeriesRow[]> {
    return this.read(() => this.feeds.readSeries(jobId, label, afterSeq, limit));
  }

  seriesLabels(jobId: string, limit: number): Promise<string[]> {
    return this.read(() => this.feeds.seriesLabels(jobId, limit));
  }

  appendMessage(
    jobId: string,
    seq: number,
    messageId: string,
    dataJson: string,
    at: number,
  ): Promise<void> {
    const message = { jobId, seq, messageId, data: dataJson, at };
    return this.write((undo) => this.feeds.appendMessage(message, undo));
  }

  findMessage(jobId: string, messageId: string): Promise<number | undefined> {
    return this.read(() => this.feeds.findMessage(jobId, messageId));
  }

  readMessages(jobId: string, afterSeq: number, limit: number): Promise<StoredMessage[]> {
    return this.read(() => this.feeds.readMessages(jobId, afterSeq, limit));
  }

  addNote(owner: string, at: number, text: string, keep: number): Promise<void> {
    return this.write((undo) => this.feeds.addNote({ owner, at, text }, keep, undo));
  }

  readNotes(owner: string | undefined, since: number, limit: number): Promise<StoredNote[]> {
    return this.read(() => this.feeds.readNotes(owner, since, limit));
  }

  listJobs(): Promise<JobRecord[]> {
    this.checkOpen();
    const out: JobRecord[] = [];
    for (const tables of this.data.jobs.values()) {
      if (tables.job) out.push(copyJobRecord(tables.job.record));
    }
    return Promise.resolve(out);
  }

  getJobCode(jobId: string): Promise<JobCode | undefined> {
    this.checkOpen();
    const code = this.tables(jobId)?.job?.code;
    return Promise.resolve(code && { program: code.program, argsJson: code.argsJson });
  }

  latestJobByName(owner: string | undefined, name: string): Promise<JobRecord | undefined> {
    this.checkOpen();
    let latest: JobTables['job'];
    for (const { job } of this.data.jobs.values()) {
      if (!job || job.record.name !== name) continue;
      if (owner !== undefined && job.record.owner !== owner) continue;
      const { created } = job.record;
      const newer =
        !latest ||
        created > latest.record.created ||
        (created === latest.record.created && job.order > latest.order);
      if (newer) latest = job;
    }
    return Promise.resolve(latest && copyJobRecord(latest.record));
  }

  readTries(jobId: string): Promise<Map<number, TaskTries>> {
    this.checkOpen();
    const out = new Map<number, TaskTries>();
    const tables = this.tables(jobId);
    if (!tables) return Promise.resolve(out);
    for (const [index, tries] of tables.tries) {
      if (!tables.settled.has(index)) out.set(index, { ...tries });
    }
    return Promise.resolve(out);
  }

  findBatch(jobId: string, batchId: string): Promise<StoredBatch | undefined> {
    this.checkOpen();
    const batch = this.tables(jobId)?.batchIds.get(batchId);
    return Promise.resolve(batch && { firstIndex: batch.firstIndex, count: batch.inputs.length });
  }

  readTask(jobId: string, index: number): Promise<StoredTask | undefined> {
    this.checkOpen();
    const tables = this.tables(jobId);
    const batch = tables?.batches[upperBound(tables.batches, index, firstIndexOf) - 1];
    const input = batch?.inputs[index - batch.firstIndex];
    return Promise.resolve(input === undefined ? undefined : { index, input });
  }

  readQueued(jobId: string, fromIndex: number, limit: number): Promise<StoredTask[]> {
    this.checkOpen();
    const out: StoredTask[] = [];
    const tables = this.tables(jobId);
    if (!tables) return Promise.resolve(out);
    // From the batch holding `fromIndex` (the last one starting at or before it) onwards.
    const start = Math.max(0, upperBound(tables.batches, fromIndex, firstIndexOf) - 1);
    for (let b = start; b < tables.batches.length && out.length < limit; b++) {
      const { firstIndex, inputs, submittedAt } = tables.batches[b]!;
      for (let i = 0; i < inputs.length && out.length < limit; i++) {
        const index = firstIndex + i;
        if (index >= fromIndex && !tables.settled.has(index)) {
          out.push(storedTask(index, inputs[i]!, submittedAt));
        }
      }
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
    this.checkOpen();
    const out: StoredOutcome[] = [];
    const tables = this.tables(jobId);
    if (!tables) return Promise.resolve(out);
    const from = kind === 'errors' ? tables.errors : tables.outcomes;
    const copy = options?.provenance ? copyWithProvenance : copyOutcome;
    for (let i = upperBound(from, afterSeq, seqOf); i < from.length && out.length < limit; i++) {
      const o = from[i]!;
      if (kind !== 'results' || o.ok) out.push(copy(o));
    }
    return Promise.resolve(out);
  }

  latestResults(jobId: string, limit: number): Promise<StoredOutcome[]> {
    this.checkOpen();
    const out: StoredOutcome[] = [];
    const outcomes = this.tables(jobId)?.outcomes ?? [];
    for (let i = outcomes.length - 1; i >= 0 && out.length < limit; i--) {
      if (outcomes[i]!.ok) out.push(copyOutcome(outcomes[i]!));
    }
    return Promise.resolve(out);
  }

  errorGroups(jobId: string, limit: number): Promise<StoredErrorGroup[]> {
    return this.read(() =>
      groupErrors(this.tables(jobId)?.errors ?? [], limit).map((g) => ({
        ...g,
        example: copyOutcome(g.example),
      })),
    );
  }

  close(): Promise<void> {
    this.commits.flush();
    this.closed = true;
    return Promise.resolve();
  }
}

import type Database from 'better-sqlite3';
import type { GroupCommit } from './group-commit.js';
import type {
  JobRecord,
  StoredEventRow,
  StoredLogRow,
  StoredMessage,
  StoredNote,
  StoredSeriesLines,
  StoredSeriesRow,
} from './job-store.js';
import {
  decodeEventLine,
  decodeLogLine,
  feedRows,
  readFeedRow,
  readSeriesRow,
  seriesRows,
  type FeedLineDecoder,
  type FeedRow,
} from './feed-lines.js';
import {
  prepareFeedStatements,
  type FeedStatements,
  type LinesStatements,
} from './sqlite-feed-statements.js';
import {
  decodeEventsRow,
  decodeJobRecord,
  decodeLogsRow,
  decodeMessage,
  decodeNote,
  decodeOptionalCount,
  decodeSeriesRow,
  decodeText,
} from './stored-rows.js';

/** A limit as SQLite must get it: a negative LIMIT there means none. */
const atLeastZero = (limit: number): number => Math.max(0, Math.floor(limit));

/**
 * The feed half of SqliteJobStore (logs, events, series, messages, notes, jobs by name), kept
 * apart to keep files small. Its writes go through the job store's group commit (one transaction
 * per commit, with everything else); `insertSeries` and `deleteJob` run inside a write the job
 * store already queued (settle, deleteJob), so they join its transaction.
 */
export class SqliteFeedStore {
  private readonly stmt: FeedStatements;

  constructor(
    db: Database.Database,
    private readonly commits: GroupCommit<() => void>,
  ) {
    this.stmt = prepareFeedStatements(db);
  }

  /** Reads rows until `out` is full; `rows` is iterated (and so closed) whatever happens. */
  private static readRows<Row>(
    rows: Iterable<unknown>,
    decodeRow: (row: unknown) => FeedRow,
    read: (row: FeedRow, out: Row[]) => void,
    limit: number,
  ): Row[] {
    const out: Row[] = [];
    for (const row of rows) {
      read(decodeRow(row), out);
      if (out.length >= limit) break;
    }
    return out;
  }

  private appendLines(stmt: LinesStatements, jobId: string, firstSeq: number, lines: string[]) {
    // Joined now: what the lines were at this call is what commits.
    const rows = feedRows(firstSeq, lines);
    return this.commits.add(() => {
      for (const row of rows) stmt.insert.run(jobId, row.firstSeq, row.lines);
    });
  }

  private readLines<Row>(
    stmt: LinesStatements,
    table: string,
    rows: { jobId: string; afterSeq: number; limit: number },
    decodeRow: (row: unknown) => FeedRow,
    decodeLine: FeedLineDecoder<Row>,
  ): Row[] {
    const { jobId, afterSeq, limit } = rows;
    // Before any iterator opens: one left unread would keep the connection busy.
    if (limit <= 0) return [];
    const start = decodeOptionalCount(stmt.start.get(jobId, afterSeq + 1), table) ?? 0;
    return SqliteFeedStore.readRows<Row>(
      stmt.from.iterate(jobId, start),
      decodeRow,
      (row, out) => readFeedRow(row, afterSeq, limit, decodeLine, out),
      limit,
    );
  }

  appendLogs(jobId: string, firstSeq: number, lines: string[]): Promise<void> {
    return this.appendLines(this.stmt.logs, jobId, firstSeq, lines);
  }

  readLogs(jobId: string, afterSeq: number, limit: number): StoredLogRow[] {
    const at = { jobId, afterSeq, limit };
    return this.readLines(this.stmt.logs, 'job_logs', at, decodeLogsRow, decodeLogLine);
  }

  appendEvents(jobId: string, firstSeq: number, lines: string[]): Promise<void> {
    return this.appendLines(this.stmt.events, jobId, firstSeq, lines);
  }

  readEvents(jobId: string, afterSeq: number, limit: number): StoredEventRow[] {
    const at = { jobId, afterSeq, limit };
    return this.readLines(this.stmt.events, 'job_events', at, decodeEventsRow, decodeEventLine);
  }

  /** Inside a settle's write: the series of the tasks it settled (duplicates left out). */
  insertSeries(jobId: string, series: readonly StoredSeriesLines[]): void {
    for (const { label, lines } of series) {
      if (lines.length === 0) continue;
      for (const row of seriesRows(lines)) {
        this.stmt.insertSeries.run(jobId, label, row.firstSeq, row.lines);
      }
      this.stmt.insertLabel.run(jobId, label);
    }
  }

  readSeries(jobId: string, label: string, afterSeq: number, limit: number): StoredSeriesRow[] {
    if (limit <= 0) return [];
    const found: unknown = this.stmt.seriesStart.get(jobId, label, afterSeq + 1);
    const start = decodeOptionalCount(found, 'series_batches') ?? 0;
    return SqliteFeedStore.readRows<StoredSeriesRow>(
      this.stmt.seriesFrom.iterate(jobId, label, start),
      decodeSeriesRow,
      (row, out) => readSeriesRow(row.lines, afterSeq, limit, out),
      limit,
    );
  }

  seriesLabels(jobId: string, limit: number): string[] {
    const rows = this.stmt.labels.all(jobId, atLeastZero(limit));
    return rows.map((label) => decodeText(label, 'series_labels'));
  }

  appendMessage(
    jobId: string,
    seq: number,
    messageId: string,
    dataJson: string,
    at: number,
  ): Promise<void> {
    return this.commits.add(() => {
      this.stmt.insertMessage.run(jobId, seq, messageId, dataJson, at);
    });
  }

  findMessage(jobId: string, messageId: string): number | undefined {
    return decodeOptionalCount(this.stmt.findMessage.get(jobId, messageId), 'job_messages');
  }

  readMessages(jobId: string, afterSeq: number, limit: number): StoredMessage[] {
    return this.stmt.messages.all(jobId, afterSeq, atLeastZero(limit)).map(decodeMessage);
  }

  addNote(owner: string, at: number, text: string, keep: number): Promise<void> {
    return this.commits.add(() => {
      this.stmt.insertNote.run(owner, at, text);
      this.stmt.trimNotes.run(owner, atLeastZero(keep));
    });
  }

  readNotes(owner: string | undefined, since: number, limit: number): StoredNote[] {
    const rows =
      owner === undefined
        ? this.stmt.allNotes.all(since, atLeastZero(limit))
        : this.stmt.notesOf.all(owner, since, atLeastZero(limit));
    return rows.map(decodeNote);
  }

  latestJobByName(owner: string | undefined, name: string): JobRecord | undefined {
    const row: unknown =
      owner === undefined
        ? this.stmt.latestByNameOfAny.get(name)
        : this.stmt.latestByName.get(owner, name);
    return row === undefined ? undefined : decodeJobRecord(decodeText(row, 'jobs'));
  }

  /** Inside deleteJob's write: the job's feed rows (notes are the owner's, not the job's). */
  deleteJob(jobId: string): void {
    this.stmt.logs.deleteJob.run(jobId);
    this.stmt.events.deleteJob.run(jobId);
    this.stmt.deleteSeries.run(jobId);
    this.stmt.deleteLabels.run(jobId);
    this.stmt.deleteMessages.run(jobId);
  }
}

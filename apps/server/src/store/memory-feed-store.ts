import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { StoredMessage, StoredNote, StoredSeriesLines, StoredSeriesRow } from './job-store.js';
import {
  feedRows,
  readFeedRow,
  readSeriesRow,
  seriesRows,
  type FeedLineDecoder,
  type FeedRow,
} from './feed-lines.js';
import { insertSorted, upperBound, type Undo } from './sorted-arrays.js';

/** The feed tables of one job, as SQLite's rows: lines kept in their stored text form. */
interface JobFeeds {
  logs: FeedRow[];
  events: FeedRow[];
  /** By label; each label's rows by first seq. */
  series: Map<string, FeedRow[]>;
  /** By seq. */
  messages: StoredMessage[];
  messageIds: Map<string, number>;
}

interface MemoryNote extends StoredNote {
  /** Insertion order, SQLite's rowid: the tie-breaker between notes of one `at`. */
  order: number;
}

/** What the memory feed store keeps (part of MemoryJobData: reopening sees it). */
export class MemoryFeedData {
  readonly jobs = new Map<string, JobFeeds>();
  /** Per owner, by (at, order). */
  readonly notes = new Map<string, MemoryNote[]>();
  nextNote = 0;
}

const firstSeqOf = (row: FeedRow): number => row.firstSeq;
const seqOf = (m: StoredMessage): number => m.seq;

/**
 * The feed half of MemoryJobStore (logs, events, series, messages, notes), kept apart to keep
 * files small. Writes take the commit's undo list and run inside MemoryJobStore's group commit;
 * reads see committed data only; everything is copied in and out.
 */
export class MemoryFeedStore {
  constructor(private readonly data: MemoryFeedData) {}

  private feedsForWrite(jobId: string, undo: Undo[]): JobFeeds {
    let feeds = this.data.jobs.get(jobId);
    if (!feeds) {
      feeds = { logs: [], events: [], series: new Map(), messages: [], messageIds: new Map() };
      this.data.jobs.set(jobId, feeds);
      undo.push(() => this.data.jobs.delete(jobId));
    }
    return feeds;
  }

  /** As SQLite's primary key (job_id, first_seq): a first seq stored already fails the commit. */
  private static insertRows(rows: FeedRow[], add: readonly FeedRow[], what: string, undo: Undo[]) {
    for (const row of add) {
      const at = upperBound(rows, row.firstSeq, firstSeqOf);
      if (at > 0 && rows[at - 1]!.firstSeq === row.firstSeq) {
        throw new TabgridError(ErrorCode.INTERNAL, `${what} ${row.firstSeq} is stored already.`);
      }
      insertSorted(rows, row, firstSeqOf, undo);
    }
  }

  /** Rows from the one that may hold `afterSeq + 1` on (rows sorted by first seq). */
  private static readRows<Row>(
    rows: readonly FeedRow[] | undefined,
    afterSeq: number,
    limit: number,
    read: (row: FeedRow, out: Row[]) => void,
  ): Row[] {
    const out: Row[] = [];
    if (!rows) return out;
    const start = Math.max(0, upperBound(rows, afterSeq + 1, firstSeqOf) - 1);
    for (let r = start; r < rows.length && out.length < limit; r++) read(rows[r]!, out);
    return out;
  }

  appendLines(
    feed: 'logs' | 'events',
    jobId: string,
    firstSeq: number,
    lines: readonly string[],
    undo: Undo[],
  ): void {
    if (lines.length === 0) return;
    const rows = this.feedsForWrite(jobId, undo)[feed];
    MemoryFeedStore.insertRows(rows, feedRows(firstSeq, lines), `Job ${jobId}'s ${feed}`, undo);
  }

  readLines<Row>(
    feed: 'logs' | 'events',
    jobId: string,
    afterSeq: number,
    limit: number,
    decode: FeedLineDecoder<Row>,
  ): Row[] {
    const rows = this.data.jobs.get(jobId)?.[feed];
    return MemoryFeedStore.readRows<Row>(rows, afterSeq, limit, (row, out) =>
      readFeedRow(row, afterSeq, limit, decode, out),
    );
  }

  /** Stores the series of freshly settled tasks (duplicates' lines already left out). */
  appendSeries(jobId: string, series: readonly StoredSeriesLines[], undo: Undo[]): void {
    for (const { label, lines } of series) {
      if (lines.length === 0) continue;
      const feeds = this.feedsForWrite(jobId, undo);
      let rows = feeds.series.get(label);
      if (!rows) {
        feeds.series.set(label, (rows = []));
        undo.push(() => feeds.series.delete(label));
      }
      MemoryFeedStore.insertRows(rows, seriesRows(lines), `Job ${jobId}'s series ${label}`, undo);
    }
  }

  readSeries(jobId: string, label: string, afterSeq: number, limit: number): StoredSeriesRow[] {
    const rows = this.data.jobs.get(jobId)?.series.get(label);
    return MemoryFeedStore.readRows<StoredSeriesRow>(rows, afterSeq, limit, (row, out) =>
      readSeriesRow(row.lines, afterSeq, limit, out),
    );
  }

  seriesLabels(jobId: string, limit: number): string[] {
    const labels = [...(this.data.jobs.get(jobId)?.series.keys() ?? [])];
    // SQLite's default collation (BINARY) orders by code units, as `<` on strings does.
    return labels.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, Math.max(0, limit));
  }

  appendMessage(message: StoredMessage & { jobId: string }, undo: Undo[]): void {
    const { jobId, seq, messageId, data, at } = message;
    const feeds = this.feedsForWrite(jobId, undo);
    // As SQLite's INSERT OR IGNORE: a message id or seq the job holds already adds nothing.
    if (feeds.messageIds.has(messageId)) return;
    const i = upperBound(feeds.messages, seq, seqOf);
    if (i > 0 && feeds.messages[i - 1]!.seq === seq) return;
    insertSorted(feeds.messages, { seq, messageId, data, at }, seqOf, undo);
    feeds.messageIds.set(messageId, seq);
    undo.push(() => feeds.messageIds.delete(messageId));
  }

  findMessage(jobId: string, messageId: string): number | undefined {
    return this.data.jobs.get(jobId)?.messageIds.get(messageId);
  }

  readMessages(jobId: string, afterSeq: number, limit: number): StoredMessage[] {
    const messages = this.data.jobs.get(jobId)?.messages ?? [];
    const out: StoredMessage[] = [];
    for (let i = upperBound(messages, afterSeq, seqOf); i < messages.length; i++) {
      if (out.length >= limit) break;
      out.push({ ...messages[i]! });
    }
    return out;
  }

  addNote(note: StoredNote, keep: number, undo: Undo[]): void {
    const before = this.data.notes.get(note.owner);
    const notes = [...(before ?? []), { ...note, order: this.data.nextNote++ }];
    notes.sort((a, b) => a.at - b.at || a.order - b.order);
    this.data.notes.set(note.owner, notes.slice(Math.max(0, notes.length - Math.max(0, keep))));
    undo.push(() =>
      before ? this.data.notes.set(note.owner, before) : this.data.notes.delete(note.owner),
    );
  }

  readNotes(owner: string | undefined, since: number, limit: number): StoredNote[] {
    const lists =
      owner === undefined ? [...this.data.notes.values()] : [this.data.notes.get(owner) ?? []];
    const matching = lists.flat().filter((n) => n.at >= since);
    matching.sort((a, b) => a.at - b.at || a.order - b.order);
    const newest = matching.slice(Math.max(0, matching.length - Math.max(0, limit)));
    return newest.map(({ owner: o, at, text }) => ({ owner: o, at, text }));
  }

  deleteJob(jobId: string, undo: Undo[]): void {
    const feeds = this.data.jobs.get(jobId);
    if (!feeds) return;
    this.data.jobs.delete(jobId);
    undo.push(() => this.data.jobs.set(jobId, feeds));
  }
}

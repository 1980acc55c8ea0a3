import type pg from 'pg';
import type {
  StoredEventRow,
  StoredLogRow,
  StoredMessage,
  StoredNote,
  StoredSeriesLines,
  StoredSeriesRow,
} from '../job-store.js';
import {
  decodeEventLine,
  decodeLogLine,
  feedRows,
  readFeedRow,
  readSeriesRow,
  seriesLineSeq,
  seriesRows,
  withoutSeqs,
  type FeedLineDecoder,
  type FeedRow,
} from '../feed-lines.js';
import {
  decodeEventsRow,
  decodeLogsRow,
  decodeMessage,
  decodeNote,
  decodeOptionalCount,
  decodeSeriesRow,
  decodeText,
} from '../stored-rows.js';
import type { PgGroupCommit } from './pg-group-commit.js';

/** A read on the pool: the rows. */
export type PgRead = (text: string, values?: unknown[]) => Promise<unknown[]>;

/** A limit as PostgreSQL takes it: a whole number ≥ 0, or null (no limit) for an infinite one. */
export function sqlLimit(limit: number): number | null {
  if (limit === Infinity) return null;
  return Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : 0;
}

/** Rows of lines read per query: a page of lines rarely needs more than the first few rows. */
const ROWS_PER_READ = 8;

type LinesTable = 'job_logs' | 'job_events';

/**
 * The feed half of PgJobStore (logs, events, series, messages, notes), the PostgreSQL twin of
 * ../sqlite-feed-store.ts: the same rows of lines (../feed-lines.ts), written through the job
 * store's group commit; `insertSeries` runs inside a settle's write, in its transaction.
 */
export class PgFeedStore {
  constructor(
    private readonly read: PgRead,
    private readonly commits: PgGroupCommit,
    /**
     * One of several nodes: each numbers a job's lines itself, so a seq another node stored
     * already drops this node's rows instead of failing the commit (and the outcomes in it).
     */
    private readonly clustered = false,
  ) {}

  appendLines(table: LinesTable, jobId: string, firstSeq: number, lines: string[]): Promise<void> {
    // Joined now: what the lines were at this call is what commits.
    const rows = feedRows(firstSeq, lines);
    if (rows.length === 0) return this.commits.add(undefined);
    const seqs = rows.map((row) => row.firstSeq);
    const texts = rows.map((row) => row.lines);
    // A seq stored already fails the commit (the primary key), as the interface says; one of
    // several nodes drops its rows instead (see `clustered`).
    return this.commits.add(async (client) => {
      await client.query(
        `INSERT INTO ${table} (job_id, first_seq, lines) SELECT $1, s, l FROM unnest($2::bigint[], $3::text[]) AS r(s, l)${this.clustered ? ' ON CONFLICT DO NOTHING' : ''}`,
        [jobId, seqs, texts],
      );
    });
  }

  /**
   * Rows of `table` from the one that may hold `afterSeq + 1` on, a few per query, each read
   * into `out` by `read` until `limit` lines are out or the rows end.
   */
  private async readRows<Row>(
    from: { table: string; where: string; values: unknown[] },
    afterSeq: number,
    limit: number,
    decodeRow: (row: unknown) => FeedRow,
    readRow: (row: FeedRow, out: Row[]) => void,
  ): Promise<Row[]> {
    const out: Row[] = [];
    if (limit <= 0) return out;
    const n = from.values.length;
    const [start] = await this.read(
      `SELECT first_seq FROM ${from.table} WHERE ${from.where} AND first_seq <= $${n + 1}
       ORDER BY first_seq DESC LIMIT 1`,
      [...from.values, afterSeq + 1],
    );
    let cursor = decodeOptionalCount(firstSeqOf(start), from.table) ?? 0;
    for (;;) {
      const rows = await this.read(
        `SELECT first_seq AS "firstSeq", lines FROM ${from.table}
         WHERE ${from.where} AND first_seq >= $${n + 1} ORDER BY first_seq LIMIT ${ROWS_PER_READ}`,
        [...from.values, cursor],
      );
      for (const row of rows) {
        const decoded = decodeRow(row);
        readRow(decoded, out);
        if (out.length >= limit) return out;
        cursor = decoded.firstSeq + 1;
      }
      if (rows.length < ROWS_PER_READ) return out;
    }
  }

  private readLines<Row>(
    table: LinesTable,
    jobId: string,
    afterSeq: number,
    limit: number,
    decodeRow: (row: unknown) => FeedRow,
    decodeLine: FeedLineDecoder<Row>,
  ): Promise<Row[]> {
    return this.readRows<Row>(
      { table, where: 'job_id = $1', values: [jobId] },
      afterSeq,
      limit,
      decodeRow,
      (row, out) => readFeedRow(row, afterSeq, limit, decodeLine, out),
    );
  }

  readLogs(jobId: string, afterSeq: number, limit: number): Promise<StoredLogRow[]> {
    return this.readLines('job_logs', jobId, afterSeq, limit, decodeLogsRow, decodeLogLine);
  }

  readEvents(jobId: string, afterSeq: number, limit: number): Promise<StoredEventRow[]> {
    return this.readLines('job_events', jobId, afterSeq, limit, decodeEventsRow, decodeEventLine);
  }

  /**
   * Inside a settle's write: the series of the outcomes that went in (`fresh`, their seqs);
   * a duplicate's lines are dropped with it.
   */
  async insertSeries(
    client: pg.PoolClient,
    jobId: string,
    series: readonly StoredSeriesLines[],
    fresh: ReadonlySet<number>,
  ): Promise<void> {
    const dropped = new Set<number>();
    for (const { lines } of series) {
      for (const line of lines) {
        const seq = seriesLineSeq(line);
        if (!fresh.has(seq)) dropped.add(seq);
      }
    }
    const labels: string[] = [];
    const seqs: number[] = [];
    const texts: string[] = [];
    for (const { label, lines } of withoutSeqs(series, dropped)) {
      for (const row of seriesRows(lines)) {
        labels.push(label);
        seqs.push(row.firstSeq);
        texts.push(row.lines);
      }
    }
    if (labels.length === 0) return;
    await client.query(
      `WITH rows AS (
         INSERT INTO series_batches (job_id, label, first_seq, lines)
         SELECT $1, l, s, t FROM unnest($2::text[], $3::bigint[], $4::text[]) AS r(l, s, t)
         RETURNING label)
       INSERT INTO series_labels (job_id, label) SELECT DISTINCT $1, label FROM rows
       ON CONFLICT DO NOTHING`,
      [jobId, labels, seqs, texts],
    );
  }

  readSeries(
    jobId: string,
    label: string,
    afterSeq: number,
    limit: number,
  ): Promise<StoredSeriesRow[]> {
    return this.readRows<StoredSeriesRow>(
      { table: 'series_batches', where: 'job_id = $1 AND label = $2', values: [jobId, label] },
      afterSeq,
      limit,
      decodeSeriesRow,
      (row, out) => readSeriesRow(row.lines, afterSeq, limit, out),
    );
  }

  async seriesLabels(jobId: string, limit: number): Promise<string[]> {
    const rows = await this.read(
      'SELECT label FROM series_labels WHERE job_id = $1 ORDER BY label COLLATE "C" LIMIT $2',
      [jobId, sqlLimit(limit)],
    );
    return rows.map((row) => decodeText(labelOf(row), 'series_labels'));
  }

  appendMessage(
    jobId: string,
    seq: number,
    messageId: string,
    dataJson: string,
    at: number,
  ): Promise<void> {
    // A resend (its id, or its seq, stored already) adds nothing and fails nothing.
    return this.commits.add(async (client) => {
      await client.query(
        `INSERT INTO job_messages (job_id, seq, message_id, data, at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        [jobId, seq, messageId, dataJson, at],
      );
    });
  }

  async findMessage(jobId: string, messageId: string): Promise<number | undefined> {
    const [row] = await this.read(
      'SELECT seq FROM job_messages WHERE job_id = $1 AND message_id = $2',
      [jobId, messageId],
    );
    return row === undefined ? undefined : decodeOptionalCount(seqOf(row), 'job_messages');
  }

  async readMessages(jobId: string, afterSeq: number, limit: number): Promise<StoredMessage[]> {
    const rows = await this.read(
      `SELECT seq, message_id AS "messageId", data, at FROM job_messages
       WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [jobId, afterSeq, sqlLimit(limit)],
    );
    return rows.map(decodeMessage);
  }

  addNote(owner: string, at: number, text: string, keep: number): Promise<void> {
    return this.commits.add(async (client) => {
      await client.query('INSERT INTO notes (owner, at, text) VALUES ($1, $2, $3)', [
        owner,
        at,
        text,
      ]);
      await client.query(
        `DELETE FROM notes WHERE id IN (SELECT id FROM notes WHERE owner = $1
           ORDER BY at DESC, id DESC OFFSET $2)`,
        [owner, sqlLimit(keep) ?? 0],
      );
    });
  }

  async readNotes(owner: string | undefined, since: number, limit: number): Promise<StoredNote[]> {
    // The newest `limit` since a time, returned oldest first (the serial id breaks ties of `at`).
    const where = owner === undefined ? 'at >= $1' : 'at >= $1 AND owner = $3';
    const values = owner === undefined ? [since, sqlLimit(limit)] : [since, sqlLimit(limit), owner];
    const rows = await this.read(
      `SELECT owner, at, text FROM (SELECT id, owner, at, text FROM notes WHERE ${where}
         ORDER BY at DESC, id DESC LIMIT $2) newest ORDER BY at, id`,
      values,
    );
    return rows.map(decodeNote);
  }
}

function firstSeqOf(row: unknown): unknown {
  return typeof row === 'object' && row !== null && 'first_seq' in row ? row.first_seq : undefined;
}

function seqOf(row: unknown): unknown {
  return typeof row === 'object' && row !== null && 'seq' in row ? row.seq : undefined;
}

function labelOf(row: unknown): unknown {
  return typeof row === 'object' && row !== null && 'label' in row ? row.label : undefined;
}

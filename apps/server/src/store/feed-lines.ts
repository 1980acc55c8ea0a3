/**
 * The text forms of the feed tables, shared by both stores (so they read back alike):
 *
 * - `job_logs.lines`, `job_events.lines`: JSON texts, one per line; a line's seq is its row's
 *   `first_seq` plus its position. Decoded line by line against the protocol's stored schemas.
 * - `series_batches.lines`: `"seq,index,valuesJson"` per line in seq order, decoded by hand with
 *   two integer checks (like outcome lines); the values stay JSON text.
 *
 * An append is cut into rows of at most {@link FEED_ROW_LINES} lines, so a read from a cursor in
 * the middle of a large append parses one bounded row, not the whole append, per page.
 */
import { createTextDecoder } from '@tabgrid/protocol/codec';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import {
  StoredEventLine,
  StoredLogLine,
  type StoredEventRow,
  type StoredLogRow,
  type StoredSeriesRow,
} from '@tabgrid/protocol/stored';
import type { StoredSeriesLines } from './job-store.js';
import { corruptRow } from './stored-rows.js';

/** Lines per stored row at most. */
export const FEED_ROW_LINES = 1_000;

/** One stored row of lines: its first seq, and its lines joined by "\n". */
export interface FeedRow {
  firstSeq: number;
  lines: string;
}

/** A JSON text on one line: JSON holds a raw newline only as whitespace, so it becomes a space. */
function oneLine(json: string): string {
  return json.includes('\n') ? json.replace(/\n/g, ' ') : json;
}

/** `lines` (seqs `firstSeq …`) as the rows that store them. */
export function feedRows(firstSeq: number, lines: readonly string[]): FeedRow[] {
  const rows: FeedRow[] = [];
  for (let at = 0; at < lines.length; at += FEED_ROW_LINES) {
    const part = lines.slice(at, at + FEED_ROW_LINES);
    rows.push({ firstSeq: firstSeq + at, lines: part.map(oneLine).join('\n') });
  }
  return rows;
}

/** A decoder of one line of a feed table to its row (the line with its seq). */
export type FeedLineDecoder<Row> = (line: string, seq: number) => Row;

function lineDecoder<Line extends object>(
  table: string,
  decode: (text: string) => Line,
): FeedLineDecoder<Line & { seq: number }> {
  return (line, seq) => {
    try {
      return { ...decode(line), seq }; // its place decides its seq, never its text
    } catch (err) {
      throw corruptRow(table, err instanceof Error ? err.message : String(err));
    }
  };
}

/** `job_logs` lines. */
export const decodeLogLine: FeedLineDecoder<StoredLogRow> = lineDecoder(
  'job_logs',
  createTextDecoder(StoredLogLine, 'line of job_logs'),
);
/** `job_events` lines. */
export const decodeEventLine: FeedLineDecoder<StoredEventRow> = lineDecoder(
  'job_events',
  createTextDecoder(StoredEventLine, 'line of job_events'),
);

/**
 * Appends to `out` the lines of `row` with seq > `afterSeq`, decoded, until `out` holds `limit`.
 * Rows come in first-seq order, so the caller stops once `out` is full.
 */
export function readFeedRow<Row>(
  row: FeedRow,
  afterSeq: number,
  limit: number,
  decode: FeedLineDecoder<Row>,
  out: Row[],
): void {
  let seq = row.firstSeq;
  let start = 0;
  while (start <= row.lines.length && out.length < limit) {
    let end = row.lines.indexOf('\n', start);
    if (end < 0) end = row.lines.length;
    if (seq > afterSeq) out.push(decode(row.lines.slice(start, end), seq));
    seq++;
    start = end + 1;
  }
}

/** A decimal integer ≥ `min` from `text[start, end)`, or -1. */
function integerAt(text: string, start: number, end: number, min: number): number {
  if (end <= start) return -1;
  const n = Number(text.slice(start, end));
  return Number.isSafeInteger(n) && n >= min ? n : -1;
}

/** The seq a series line starts with, or -1 when it starts with none. */
export function seriesLineSeq(line: string): number {
  return integerAt(line, 0, line.indexOf(','), 1);
}

/** `series` without the lines of the `outcomes` that were not `fresh` (duplicates). */
export function freshSeries(
  series: readonly StoredSeriesLines[],
  outcomes: readonly { seq: number }[],
  fresh: readonly { seq: number }[],
): StoredSeriesLines[] {
  const dropped = new Set<number>();
  if (fresh.length < outcomes.length) {
    const kept = new Set(fresh.map((o) => o.seq));
    for (const o of outcomes) if (!kept.has(o.seq)) dropped.add(o.seq);
  }
  return withoutSeqs(series, dropped);
}

/**
 * The series of settled tasks without the lines of the seqs in `dropped` (outcomes the store
 * did not take: their tasks had settled already), and without labels left empty.
 */
export function withoutSeqs(
  series: readonly StoredSeriesLines[],
  dropped: ReadonlySet<number>,
): StoredSeriesLines[] {
  const out: StoredSeriesLines[] = [];
  for (const { label, lines } of series) {
    const kept =
      dropped.size === 0 ? lines : lines.filter((line) => !dropped.has(seriesLineSeq(line)));
    if (kept.length > 0) out.push({ label, lines: kept });
  }
  return out;
}

/** `series_batches` rows of one append: cut like feed rows, keyed by the first line's seq. */
export function seriesRows(lines: readonly string[]): FeedRow[] {
  const rows: FeedRow[] = [];
  for (let at = 0; at < lines.length; at += FEED_ROW_LINES) {
    const part = lines.slice(at, at + FEED_ROW_LINES);
    const firstSeq = seriesLineSeq(part[0]!);
    if (firstSeq < 0) {
      throw new TabgridError(
        ErrorCode.INTERNAL,
        `A series line to store must start "seq,index,", not ${JSON.stringify(part[0]!.slice(0, 40))}.`,
      );
    }
    rows.push({ firstSeq, lines: part.map(oneLine).join('\n') });
  }
  return rows;
}

function badSeriesLine(line: string): Error {
  return corruptRow('series_batches', `a line starts ${JSON.stringify(line.slice(0, 40))}`);
}

/** As {@link readFeedRow}, for a `series_batches` row (each line carries its own seq). */
export function readSeriesRow(
  lines: string,
  afterSeq: number,
  limit: number,
  out: StoredSeriesRow[],
): void {
  let start = 0;
  while (start <= lines.length && out.length < limit) {
    let end = lines.indexOf('\n', start);
    if (end < 0) end = lines.length;
    const a = lines.indexOf(',', start);
    const b = a < 0 || a > end ? -1 : lines.indexOf(',', a + 1);
    const seq = integerAt(lines, start, a, 1);
    const index = integerAt(lines, a + 1, b, 0);
    if (b < 0 || b >= end || seq < 0 || index < 0) throw badSeriesLine(lines.slice(start, end));
    if (seq > afterSeq) out.push({ seq, index, values: lines.slice(b + 1, end) });
    start = end + 1;
  }
}

/**
 * The text form of `outcome_batches.lines`: one settle call's outcomes, one line each,
 * "seq,index,ok,payload" in seq order. This is the hot read path (every result stream reads
 * it), so lines are decoded by hand with a few integer checks instead of a schema per outcome;
 * the payload stays JSON text until a consumer needs the value (./outcome-payload.ts). A packed
 * payload (schema 5: a value holding typed arrays) is a `*` in its line and raw bytes in the
 * row's `payload_bytes` (./packed-column.ts).
 */
import type { StoredOutcome } from './job-store.js';
import { PACKED_MARK, PackedReader, carriedAt } from './packed-column.js';
import { corruptRow } from './stored-rows.js';

/**
 * One stored line. JSON text only holds a raw newline as whitespace, so a payload's newlines
 * become spaces (the same JSON value) and a line never spans two. A packed payload is its mark:
 * the caller stores its bytes in the row's BLOB, in line order.
 */
export function outcomeLine(o: StoredOutcome): string {
  const text = o.payload;
  if (typeof text !== 'string') return `${o.seq},${o.index},${o.ok ? 1 : 0},${PACKED_MARK}`;
  const payload = text.includes('\n') ? text.replace(/\n/g, ' ') : text;
  return `${o.seq},${o.index},${o.ok ? 1 : 0},${payload}`;
}

function badLine(line: string): Error {
  return corruptRow('outcome_batches', `a line starts ${JSON.stringify(line.slice(0, 40))}`);
}

/** A decimal integer ≥ `min` from `text[start, end)`, or -1. */
function integerAt(text: string, start: number, end: number, min: number): number {
  if (end <= start) return -1;
  const n = Number(text.slice(start, end));
  return Number.isSafeInteger(n) && n >= min ? n : -1;
}

/** The outcomes of one `outcome_batches` row, in seq order; `bytes` its `payload_bytes`. */
export function parseLines(lines: string, bytes?: Uint8Array | null): StoredOutcome[] {
  const out: StoredOutcome[] = [];
  const packed = new PackedReader(bytes, 'outcome_batches');
  let start = 0;
  while (start <= lines.length) {
    let end = lines.indexOf('\n', start);
    if (end < 0) end = lines.length;
    const a = lines.indexOf(',', start);
    const b = a < 0 ? -1 : lines.indexOf(',', a + 1);
    const flag = lines.charCodeAt(b + 1); // '0' or '1'
    const seq = integerAt(lines, start, a, 1);
    const index = integerAt(lines, a + 1, b, 0);
    if (b < 0 || b + 2 > end || seq < 0 || index < 0 || (flag !== 48 && flag !== 49)) {
      throw badLine(lines.slice(start, end));
    }
    if (lines.charCodeAt(b + 2) !== 44) throw badLine(lines.slice(start, end)); // ','
    out.push({ seq, index, ok: flag === 49, payload: carriedAt(lines.slice(b + 3, end), packed) });
    start = end + 1;
  }
  return out;
}

/** The task index of each line, without building outcomes (to rebuild the settled set). */
export function* lineIndexes(lines: string): Generator<number> {
  let start = 0;
  while (start < lines.length) {
    const a = lines.indexOf(',', start);
    const b = a < 0 ? -1 : lines.indexOf(',', a + 1);
    const index = integerAt(lines, a + 1, b, 0);
    if (b < 0 || index < 0) throw badLine(lines.slice(start, start + 40));
    yield index;
    const end = lines.indexOf('\n', b);
    if (end < 0) return;
    start = end + 1;
  }
}

/**
 * How a row of many values (a task batch's inputs, an outcome batch's payloads) keeps the
 * packed ones (values holding typed arrays, @tabgrid/protocol/packed-value) as raw bytes beside
 * its text (schema version 5): each packed value's place in the text holds {@link PACKED_MARK},
 * and the row's BLOB column (`task_batches.input_bytes`, `outcome_batches.payload_bytes`) holds
 * the packed values in the same order, each after its uint32 length (little-endian). JSON text
 * never starts with `*`, so a mark is never a value. Rows without packed values have a NULL BLOB
 * (so do all rows of older files: their typed arrays are base64 tags in the text, read as such).
 */
import type { CarriedValue } from './job-store.js';
import { corruptRow } from './stored-rows.js';

/** What stands in a row's text for its next packed value. */
export const PACKED_MARK = '*';

/**
 * The text of each value (a packed one's mark) and the BLOB of the packed ones (null if none).
 */
export function splitPacked(values: readonly CarriedValue[]): {
  texts: string[];
  bytes: Buffer | null;
} {
  let size = 0;
  for (const value of values) if (typeof value !== 'string') size += 4 + value.length;
  if (size === 0) return { texts: values as string[], bytes: null };
  const bytes = Buffer.allocUnsafe(size);
  const texts = new Array<string>(values.length);
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (typeof value === 'string') {
      texts[i] = value;
      continue;
    }
    texts[i] = PACKED_MARK;
    bytes.writeUInt32LE(value.length, at);
    bytes.set(value, at + 4);
    at += 4 + value.length;
  }
  return { texts, bytes };
}

/**
 * Reads a row's packed values in order: `next()` for each mark met in its text. Each comes back
 * as a view into the row's BLOB (better-sqlite3 and pg hand out a fresh Buffer per read).
 */
export class PackedReader {
  private at = 0;

  constructor(
    private readonly bytes: Uint8Array | null | undefined,
    private readonly table: string,
  ) {}

  /** The next packed value; throws (a corrupt row) when the BLOB holds no more. */
  next(): Uint8Array {
    const bytes = this.bytes;
    if (!bytes || this.at + 4 > bytes.length) throw this.short();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const length = view.getUint32(this.at, true);
    const start = this.at + 4;
    if (start + length > bytes.length) throw this.short();
    this.at = start + length;
    return bytes.subarray(start, start + length);
  }

  /** Skips `n` packed values (to reach one in the middle of a row). */
  skip(n: number): void {
    for (let i = 0; i < n; i++) this.next();
  }

  private short(): Error {
    return corruptRow(this.table, 'a packed value is missing from its BLOB column');
  }
}

/**
 * The value at line `at` of a task batch row (`lines` its text split, `bytes` its BLOB), or
 * undefined past its end: a packed one is found by skipping the packed values of the lines
 * before it.
 */
export function carriedInRow(
  lines: readonly string[],
  at: number,
  bytes: Uint8Array | null | undefined,
): CarriedValue | undefined {
  const text = lines[at];
  if (text === undefined || text !== PACKED_MARK) return text;
  const reader = new PackedReader(bytes, 'task_batches');
  for (let i = 0; i < at; i++) if (lines[i] === PACKED_MARK) reader.next();
  return reader.next();
}

/** A value to keep past the call: a packed one copied (its caller may reuse the buffer). */
export function copyCarried(value: CarriedValue): CarriedValue {
  return typeof value === 'string' ? value : value.slice();
}

/** A value read back from a row's text: the text, or (a mark) the row's next packed value. */
export function carriedAt(text: string, reader: PackedReader): CarriedValue {
  return text === PACKED_MARK ? reader.next() : text;
}

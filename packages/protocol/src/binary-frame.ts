/**
 * Binary frames on the worker socket: how typed arrays in task inputs and results cross it
 * without base64. A frame whose JSON holds bytes in the text form (see ./bytes.ts) is sent as
 *
 *   [ header length: uint32, little-endian ][ header: UTF-8 JSON ][ attachments: raw bytes ]
 *
 * where the header is the frame's JSON with every `{ "$tabgrid.bytes": kind, "base64": … }`
 * replaced by `{ "$tabgrid.bytes": kind, "at": offset, "length": n }` into the attachments.
 * The tags' ranges tile the attachments: each byte belongs to exactly one tag, so decoding
 * costs what the frame weighs (a header naming one attachment many times is refused). Decoding
 * restores the text form, so everything past the socket sees the same values either way.
 * Frames without bytes stay JSON text.
 *
 * The same layout carries one value inside the server (./packed-value.ts): a value holding typed
 * arrays is kept as its header plus attachments from the SDK socket to the store and the worker
 * frame, and back, so its bytes are never base64'd there.
 */
import { BYTES_TAG, base64, mapDeep, unbase64 } from './bytes.js';
import { ErrorCode, TabgridError } from './errors.js';
import { MAX_DEPTH, jsonDepth } from './limits.js';

/** True when a frame's JSON text carries bytes, i.e. should go as a binary frame. */
export function hasBytes(text: string): boolean {
  return text.includes(BYTES_TAG);
}

/** Copies `value`, passing every bytes tag in it through `visit`. */
export function walk(value: unknown, visit: (tagged: Record<string, unknown>) => unknown): unknown {
  return mapDeep(value, (item) => (BYTES_TAG in item ? visit(item) : item));
}

function invalid(why: string): TabgridError {
  return new TabgridError(ErrorCode.PROTOCOL, `Invalid binary frame: ${why}.`);
}

/**
 * A frame's JSON text (bytes in the text form) → a binary frame whose tags tile its attachments
 * in order, as {@link decodeBinaryFrame} requires. Throws TG_ERR_PROTOCOL for a frame with more
 * than {@link MAX_BYTES_TAGS} typed arrays (no decoder would take it).
 */
export function encodeBinaryFrame(text: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const header = walk(JSON.parse(text), (tagged) => {
    if (typeof tagged.base64 !== 'string') return tagged;
    if (parts.length === MAX_BYTES_TAGS) {
      throw invalid(`more than ${MAX_BYTES_TAGS} typed arrays in one frame (the limit)`);
    }
    const bytes = unbase64(tagged.base64);
    parts.push(bytes);
    size += bytes.length;
    return { [BYTES_TAG]: tagged[BYTES_TAG], at: size - bytes.length, length: bytes.length };
  });
  return assembleFrame(JSON.stringify(header), parts, size);
}

/**
 * `[ header length ][ header ][ parts … ]` in one buffer: `size` is the parts' total length,
 * and the header's tags must name them in order (the caller wrote it so).
 */
export function assembleFrame(
  header: string,
  parts: readonly Uint8Array[],
  size: number,
): Uint8Array {
  const head = new TextEncoder().encode(header);
  const frame = new Uint8Array(4 + head.length + size);
  new DataView(frame.buffer).setUint32(0, head.length, true);
  frame.set(head, 4);
  let offset = 4 + head.length;
  for (const part of parts) {
    frame.set(part, offset);
    offset += part.length;
  }
  return frame;
}

/** Most bytes tags one binary frame may hold (each costs a header object and a base64 call). */
export const MAX_BYTES_TAGS = 65_536;

/** Bytes tags in a frame's JSON text, at most: occurrences of the tag's key. */
function tagsIn(text: string, max: number): number {
  const key = `"${BYTES_TAG}"`;
  let count = 0;
  for (let at = text.indexOf(key); at !== -1; at = text.indexOf(key, at + key.length)) {
    if (++count > max) break;
  }
  return count;
}

/** The bytes tags of one parsed text-form value (an item of a frame). */
function tagsOf(value: unknown): number {
  let count = 0;
  walk(value, (tagged) => {
    count++;
    return tagged;
  });
  return count;
}

/**
 * A frame's JSON text → what to send for it: the text itself when it carries no bytes, else
 * binary frames. A frame of independent items (`tasks`, `messages`: each item stands alone)
 * holding more than {@link MAX_BYTES_TAGS} typed arrays in all goes as several frames of the same
 * kind, each within the bound (1,000 tasks of 100 small arrays each would be 100,000). Throws
 * TG_ERR_PROTOCOL only for one item over the bound on its own.
 */
export function encodeFrames(
  text: string,
  splittable = ['tasks', 'messages'],
): (string | Uint8Array)[] {
  if (!hasBytes(text)) return [text];
  if (tagsIn(text, MAX_BYTES_TAGS) <= MAX_BYTES_TAGS) return [encodeBinaryFrame(text)];
  const frame = JSON.parse(text) as { type?: unknown; items?: unknown };
  if (!splittable.includes(frame.type as string) || !Array.isArray(frame.items)) {
    return [encodeBinaryFrame(text)];
  }
  const runs: unknown[][] = [];
  let run: unknown[] = [];
  let used = 0;
  for (const item of frame.items as unknown[]) {
    const count = tagsOf(item);
    if (run.length > 0 && used + count > MAX_BYTES_TAGS) {
      runs.push(run);
      run = [];
      used = 0;
    }
    run.push(item);
    used += count;
  }
  if (run.length > 0) runs.push(run);
  return runs.map((items) => encodeBinaryFrame(JSON.stringify({ ...frame, items })));
}

/** One bytes tag of a header, and the text-form object that replaces it in the value. */
export interface Slot {
  at: number;
  length: number;
  out: Record<string, unknown>;
}

/** How {@link decodeBinaryFrame} hands a tag's bytes back. */
export type DecodedBytes =
  /** `{ "$tabgrid.bytes": kind, "base64": … }`, the text form (what a text frame would give). */
  | 'text'
  /**
   * `{ "$tabgrid.bytes": kind, "data": Uint8Array }`, the socket form, `data` a view into the
   * frame (no copy, no base64): for a reader that keeps the bytes as bytes (the server, see
   * ./packed-value.ts) or turns them into typed arrays of their own (the worker page,
   * `fromSocketForm`; issue 18).
   */
  | 'socket';

/**
 * A binary frame → its value, with bytes in the text form (or, with `bytesAs: 'socket'`, the socket
 * form). Throws TG_ERR_PROTOCOL.
 *
 * The work is bounded by the frame's size before any of it is done: the header's nesting is
 * checked on its text ({@link MAX_DEPTH}), the tags are counted ({@link MAX_BYTES_TAGS}), and
 * their ranges must tile the attachments exactly, in any order (each byte belongs to one tag;
 * no gaps, no overlaps). So no header can make the decoder copy an attachment twice: the
 * decoded text is at most the header plus 4/3 of the attachments. {@link encodeBinaryFrame}
 * writes frames that way.
 */
export function decodeBinaryFrame(
  frame: ArrayBuffer | ArrayBufferView,
  maxDepth: number = MAX_DEPTH,
  bytesAs: DecodedBytes = 'text',
): unknown {
  const bytes =
    frame instanceof ArrayBuffer
      ? new Uint8Array(frame)
      : new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
  if (bytes.length < 4) throw invalid('shorter than its header length');
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  if (4 + headLength > bytes.length) throw invalid('header longer than the frame');
  const attachments = bytes.subarray(4 + headLength);
  const text = new TextDecoder().decode(bytes.subarray(4, 4 + headLength));
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw invalid(`header nested deeper than ${maxDepth} levels (the limit)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    throw invalid('header is not JSON');
  }
  const slots: Slot[] = [];
  const value = walk(header, (tagged) => {
    const { at, length } = tagged;
    if (!isOffset(at) || !isOffset(length)) {
      throw invalid('bytes without a valid offset and length');
    }
    if (slots.length === MAX_BYTES_TAGS) {
      throw invalid(`more than ${MAX_BYTES_TAGS} bytes tags (the limit)`);
    }
    const out: Record<string, unknown> =
      bytesAs === 'socket'
        ? { [BYTES_TAG]: tagged[BYTES_TAG], data: null }
        : { [BYTES_TAG]: tagged[BYTES_TAG], base64: '' };
    slots.push({ at, length, out });
    return out;
  });
  checkTiling(slots, attachments.length);
  for (const { at, length, out } of slots) {
    const bytes = attachments.subarray(at, at + length);
    if (bytesAs === 'socket') out.data = bytes;
    else out.base64 = base64(bytes);
  }
  return value;
}

export function isOffset(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Throws unless the slots' ranges cover [0, size) exactly, each byte once. */
export function checkTiling(slots: Slot[], size: number): void {
  const sorted = [...slots].sort((a, b) => a.at - b.at || a.length - b.length);
  let end = 0;
  for (const { at, length } of sorted) {
    if (at + length > size) throw invalid('bytes past the end of the frame');
    if (at < end) throw invalid('bytes tags overlap (each attachment byte may be used once)');
    if (at > end) throw invalid('attachment bytes that no tag uses');
    end = at + length;
  }
  if (end !== size) throw invalid('attachment bytes that no tag uses');
}

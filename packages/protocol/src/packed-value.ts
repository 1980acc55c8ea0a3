/**
 * A task input or result as the server carries it: bytes as bytes.
 *
 * A value without typed arrays is its JSON text (a string: the plain path, unchanged). A value
 * holding typed arrays is **packed**: one `Uint8Array` in the binary frame's layout
 * (./binary-frame.ts), `[ header length ][ header JSON ][ attachments ]`, the header the value's
 * JSON with every typed array replaced by `{ "$tabgrid.bytes": kind, "at": offset, "length": n }`
 * into the attachments, in order. So a value goes from the SDK socket to the store (a BLOB) and
 * into a worker's binary frame, and back, without base64 and without stringifying its bytes;
 * only the REST form (JSON text, base64 tags as README documents) is made from it on request.
 *
 * @example
 * const packed = packValue({ m: new Float32Array([1, 2]) }); // Uint8Array
 * carriedText(packed); // '{"m":{"$tabgrid.bytes":"Float32Array","base64":"AACAPwAAAEA="}}'
 */
import { MAX_BYTES_TAGS, assembleFrame, decodeBinaryFrame } from './binary-frame.js';
import { BYTES_TAG, bytesParts, containsBytes, mapDeep } from './bytes.js';
import { ErrorCode, TabgridError } from './errors.js';
import { MAX_DEPTH } from './limits.js';

/** A value inside the server: JSON text, or packed (header plus attachments) when it holds bytes. */
export type CarriedValue = string | Uint8Array;

/**
 * Any value (live, socket form, text form) → what the server keeps: its JSON text when it holds
 * no bytes, else packed. Text-form tags are checked (toTextForm's rules) and unbase64'd, so a
 * REST upload and an SDK submit of the same value are kept alike. Throws TG_ERR_INVALID_TASK for
 * a forged or malformed tag, or (with `seen`) a binary attachment named twice, as
 * {@link socketFormToJson} does.
 */
export function packValue(value: unknown, seen?: Set<object>): CarriedValue {
  if (!containsBytes(value)) return JSON.stringify(value ?? null);
  const parts: Uint8Array[] = [];
  let size = 0;
  const header = mapDeep(value, (item) => {
    const found = bytesParts(item, seen);
    if (!found) return item;
    if (parts.length === MAX_BYTES_TAGS) throw tooManyTags();
    parts.push(found.bytes);
    size += found.bytes.length;
    return { [BYTES_TAG]: found.kind, at: size - found.bytes.length, length: found.bytes.length };
  });
  return assembleFrame(JSON.stringify(header ?? null), parts, size);
}

const EMPTY = new Uint8Array(0);

function tooManyTags(): TabgridError {
  return new TabgridError(
    ErrorCode.PAYLOAD_TOO_LARGE,
    `A value holds more than ${MAX_BYTES_TAGS} typed arrays (MAX_BYTES_TAGS, the limit per ` +
      'value): pack them into fewer, larger arrays.',
  );
}

/**
 * JSON text (text form, as REST uploads and pre-5 store rows hold it) → what the server keeps:
 * the text itself when it names no bytes, else packed.
 */
export function packText(text: string): CarriedValue {
  return text.includes(BYTES_TAG) ? packValue(JSON.parse(text)) : text;
}

/** Bytes a carried value weighs in memory (about: a string's length). */
export function carriedSize(value: CarriedValue): number {
  return value.length;
}

/**
 * A carried value → its value: packed bytes as socket-form tags whose `data` view `value` (no
 * copy: for socket.io pushes and the SDK's decoder), JSON text parsed (its tags stay as they
 * are). Throws TG_ERR_PROTOCOL for a packed value that does not decode.
 */
export function unpackValue(value: CarriedValue): unknown {
  if (typeof value === 'string') return JSON.parse(value);
  return decodeBinaryFrame(value, MAX_DEPTH, 'socket');
}

/** A carried value → JSON text in the text form (REST, the dashboard): base64 made here only. */
export function carriedText(value: CarriedValue): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(decodeBinaryFrame(value, MAX_DEPTH, 'text'));
}

/** One value laid into a bigger frame: its header JSON (offsets moved) and its attachments. */
export interface FramePiece {
  json: string;
  bytes: Uint8Array;
  tags: number;
}

/**
 * A carried value as a piece of a binary frame whose attachments before it weigh `at` bytes:
 * its header with every offset moved by `at`, and its attachments (a view, no copy). JSON text
 * with base64 tags (rows stored before schema 5) is packed first.
 */
export function framePiece(value: CarriedValue, at: number): FramePiece {
  const packed = typeof value === 'string' ? packText(value) : value;
  if (typeof packed === 'string') return { json: packed, bytes: EMPTY, tags: 0 };
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const headLength = view.getUint32(0, true);
  const header: unknown = JSON.parse(new TextDecoder().decode(packed.subarray(4, 4 + headLength)));
  let tags = 0;
  const moved = mapDeep(header, (item) => {
    if (!(BYTES_TAG in item)) return item;
    tags++;
    const tag = item as unknown as { at: number };
    return { ...tag, at: tag.at + at };
  });
  return { json: JSON.stringify(moved), bytes: packed.subarray(4 + headLength), tags };
}

/**
 * A frame made of a template and carried values (a tasks frame and its inputs): JSON text when
 * none holds bytes (the plain path, `build` given the texts as they are), else one binary frame
 * whose header is `build` of the pieces' headers. The caller keeps a frame's tags within
 * {@link MAX_BYTES_TAGS} (see {@link framePiece}'s `tags`).
 */
export function frameOf(
  values: readonly CarriedValue[],
  build: (jsons: string[]) => string,
): string | Uint8Array {
  if (!values.some(carriesBytes)) return build(values as string[]);
  const jsons: string[] = [];
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const value of values) {
    const piece = framePiece(value, size);
    jsons.push(piece.json);
    if (piece.bytes.length > 0) parts.push(piece.bytes);
    size += piece.bytes.length;
  }
  return assembleFrame(build(jsons), parts, size);
}

/** Whether a carried value holds bytes (packed, or text with a bytes tag). */
export function carriesBytes(value: CarriedValue): boolean {
  return typeof value !== 'string' || value.includes(BYTES_TAG);
}

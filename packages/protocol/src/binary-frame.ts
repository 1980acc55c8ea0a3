/**
 * Binary frames on the worker socket: how typed arrays in task inputs and results cross it
 * without base64. A frame whose JSON holds bytes in the text form (see ./bytes.ts) is sent as
 *
 *   [ header length: uint32, little-endian ][ header: UTF-8 JSON ][ attachments: raw bytes ]
 *
 * where the header is the frame's JSON with every `{ "$tabgrid.bytes": kind, "base64": … }`
 * replaced by `{ "$tabgrid.bytes": kind, "at": offset, "length": n }` into the attachments.
 * Decoding restores the text form, so everything past the socket sees the same values either
 * way. Frames without bytes stay JSON text.
 */
import { BYTES_TAG, base64, mapDeep, unbase64 } from './bytes.js';
import { ErrorCode, TabgridError } from './errors.js';

/** True when a frame's JSON text carries bytes, i.e. should go as a binary frame. */
export function hasBytes(text: string): boolean {
  return text.includes(BYTES_TAG);
}

/** Copies `value`, passing every bytes tag in it through `visit`. */
function walk(value: unknown, visit: (tagged: Record<string, unknown>) => unknown): unknown {
  return mapDeep(value, (item) => (BYTES_TAG in item ? visit(item) : item));
}

function invalid(why: string): TabgridError {
  return new TabgridError(ErrorCode.PROTOCOL, `Invalid binary frame: ${why}.`);
}

/** A frame's JSON text (bytes in the text form) → a binary frame. */
export function encodeBinaryFrame(text: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const header = walk(JSON.parse(text), (tagged) => {
    if (typeof tagged.base64 !== 'string') return tagged;
    const bytes = unbase64(tagged.base64);
    parts.push(bytes);
    size += bytes.length;
    return { [BYTES_TAG]: tagged[BYTES_TAG], at: size - bytes.length, length: bytes.length };
  });
  const head = new TextEncoder().encode(JSON.stringify(header));
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

/** A binary frame → its value, with bytes in the text form. Throws TG_ERR_PROTOCOL. */
export function decodeBinaryFrame(frame: ArrayBuffer | ArrayBufferView): unknown {
  const bytes =
    frame instanceof ArrayBuffer
      ? new Uint8Array(frame)
      : new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
  if (bytes.length < 4) throw invalid('shorter than its header length');
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  if (4 + headLength > bytes.length) throw invalid('header longer than the frame');
  const attachments = bytes.subarray(4 + headLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headLength)));
  } catch {
    throw invalid('header is not JSON');
  }
  return walk(header, (tagged) => {
    const { at, length } = tagged;
    if (!Number.isInteger(at) || !Number.isInteger(length) || (at as number) < 0) {
      throw invalid('bytes without a valid offset and length');
    }
    const end = (at as number) + (length as number);
    if (end > attachments.length) throw invalid('bytes past the end of the frame');
    return {
      [BYTES_TAG]: tagged[BYTES_TAG],
      base64: base64(attachments.subarray(at as number, end)),
    };
  });
}

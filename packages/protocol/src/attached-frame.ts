/**
 * Binary frames whose bytes are already bytes (issue 18): the worker page's job threads return
 * results' typed arrays as attachments, tagged `{ "$tabgrid.bytes": kind, "at": offset,
 * "length": n }` into them laid end to end — the layout of ./binary-frame.ts — so the page
 * checks the tags and writes the frame, without base64 and without parsing what it sends.
 */
import { BYTES_TAG, bytesKindProblem } from './bytes.js';
import { MAX_BYTES_TAGS, checkTiling, isOffset, walk, type Slot } from './binary-frame.js';

/**
 * The binary frame of `header` (a frame's JSON text whose bytes tags are already
 * `{ "$tabgrid.bytes": kind, "at": offset, "length": n }` into `attachments` laid end to end, as
 * the worker page's job threads write their results: issue 18) — no base64 on the way. The
 * caller has checked the tags with {@link attachedTagsProblem}.
 */
export function attachedFrame(header: string, attachments: readonly ArrayBuffer[]): Uint8Array {
  const head = new TextEncoder().encode(header);
  let size = 0;
  for (const buffer of attachments) size += buffer.byteLength;
  const frame = new Uint8Array(4 + head.length + size);
  new DataView(frame.buffer).setUint32(0, head.length, true);
  frame.set(head, 4);
  let offset = 4 + head.length;
  for (const buffer of attachments) {
    frame.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return frame;
}

/**
 * Why `values` (parsed from a header for {@link attachedFrame}) would make a frame that
 * {@link decodeBinaryFrame} or the bytes checks refuse: a tag without offsets, of an unknown
 * kind or a size no whole number of its elements, in the text form, ranges that do not tile
 * `size` bytes, more than {@link MAX_BYTES_TAGS}; undefined when the frame would decode.
 */
export function attachedTagsProblem(values: readonly unknown[], size: number): string | undefined {
  const slots: Slot[] = [];
  let problem: string | undefined;
  for (const value of values) {
    walk(value, (tagged) => {
      const { at, length } = tagged;
      if (problem !== undefined) return tagged;
      if (!isOffset(at) || !isOffset(length)) problem = 'a bytes tag without offsets';
      else if (slots.length === MAX_BYTES_TAGS) problem = `more than ${MAX_BYTES_TAGS} bytes tags`;
      else {
        const kind = bytesKindProblem(tagged[BYTES_TAG], length);
        if (kind !== undefined) problem = `a bytes tag ${kind}`;
        else slots.push({ at, length, out: tagged });
      }
      return tagged;
    });
    if (problem !== undefined) return problem;
  }
  try {
    checkTiling(slots, size);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

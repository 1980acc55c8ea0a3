/**
 * How big a parsed value is as JSON text, counted without building the text (moved out of
 * ./bytes.ts, which re-exports it).
 */

function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/**
 * The UTF-8 size of `JSON.stringify(value)` of a parsed (JSON or text-form) value, counted
 * iteratively without building the text, or `Infinity` as soon as it passes `max`: so a
 * hostile value costs at most `max` characters of counting (plus one step per container).
 * Exact for what `JSON.parse` produces, except that a lone surrogate counts 2 (stringify writes
 * 6). Check the value's depth first (./limits.ts) only if something else will walk it.
 *
 * @example
 * if (jsonByteLength(event.data, 16 * 1024) > 16 * 1024) throw tooBig();
 */
export function jsonByteLength(value: unknown, max: number): number {
  let total = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      total += stringBytes(item, max - total);
    } else if (typeof item === 'number') {
      total += Number.isFinite(item) ? String(item).length : 4;
    } else if (typeof item === 'boolean') {
      total += item ? 4 : 5;
    } else if (item === null || item === undefined || typeof item !== 'object') {
      total += 4; // null (undefined in an array, a function: stringify writes null or skips)
    } else if (isBinary(item)) {
      total += Math.ceil((item.byteLength * 4) / 3) + 40;
    } else if (Array.isArray(item)) {
      total += 2 + Math.max(0, item.length - 1);
      for (let i = item.length - 1; i >= 0; i--) pending.push(item[i]);
    } else {
      const keys = Object.keys(item);
      total += 2 + Math.max(0, keys.length - 1);
      for (const key of keys) {
        total += stringBytes(key, max - total) + 1;
        pending.push((item as Record<string, unknown>)[key]);
      }
    }
    if (total > max) return Infinity;
  }
  return total;
}

/** A character that JSON escapes or UTF-8 writes in more than one byte. */
// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
const NOT_PLAIN_ASCII = /[\u0000-\u001f"\\\u007f-\uffff]/;

/** A string's size as JSON text in UTF-8 (quotes and escapes included), or more than `budget`. */
function stringBytes(text: string, budget: number): number {
  // Most text is plain ASCII: one native scan instead of a JavaScript loop over every char
  // (series values of 100 KB each go through here on the server).
  if (!NOT_PLAIN_ASCII.test(text)) return text.length + 2;
  let bytes = 2;
  for (let i = 0; i < text.length && bytes <= budget; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) bytes += 2;
    else if (c < 0x20)
      bytes += c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6;
    else if (c < 0x80) bytes += 1;
    else if (c < 0x800 || (c >= 0xd800 && c < 0xe000)) bytes += 2;
    else bytes += 3;
  }
  return bytes;
}

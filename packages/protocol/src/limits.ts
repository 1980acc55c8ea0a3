/**
 * Nesting bounds, checked without recursion before any recursive work touches a value.
 *
 * Everything past a decoder walks values recursively: TypeBox's checks, `containsBytes`,
 * `JSON.stringify`, the quorum's canonical form. A value nested a few thousand levels deep
 * overflows the stack in any of them (a `RangeError` thrown wherever it happens to be, a
 * settle path or a promise callback included). So a message is refused as soon as it is seen
 * to nest too deep: by scanning the JSON text before `JSON.parse`, or by one iterative walk of
 * an already-parsed value (socket.io payloads).
 *
 * Two bounds, so that a value accepted where it enters always fits every message that carries it
 * later:
 *
 * - {@link MAX_VALUE_DEPTH} (100) for one value: a task input, a job's args, a result. Entry
 *   points (REST, socket.io, worker outcomes) check values against it.
 * - {@link MAX_DEPTH} (128) for a whole message: what every decoder of this package checks by
 *   default. A message wraps its values in at most {@link ENVELOPE_DEPTH} (28) levels.
 *
 * Depth counts containers: `1` is 0 deep, `[]` and `{}` are 1, `[[1]]` is 2. A typed array or
 * ArrayBuffer counts as 1 (it travels as a one-level tagged object in both wire forms).
 */
import { ErrorCode, TabgridError } from './errors.js';

/** Most levels of arrays and objects one value (task input, args, result) may nest. */
export const MAX_VALUE_DEPTH = 100;
/** Levels a message may add around the values it carries. */
export const ENVELOPE_DEPTH = 28;
/**
 * Most levels a whole message may nest: every decoder checks it before parsing or validating.
 * Far below where recursive walkers overflow the stack (~3,000 levels), far above real data.
 */
export const MAX_DEPTH = MAX_VALUE_DEPTH + ENVELOPE_DEPTH;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * The nesting depth of JSON text, counting brackets outside strings, or `Infinity` as soon as it
 * passes `max` (so a hostile text costs one linear scan at most, and usually less). Malformed
 * text gets some number back; `JSON.parse` refuses it afterwards.
 */
export function jsonDepth(text: string, max = MAX_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > max) return Infinity;
      }
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return deepest;
}

/** Index of the quote closing the string opened at `open` (text.length if it never closes). */
function endOfString(text: string, open: number): number {
  let close = text.indexOf('"', open + 1);
  while (close !== -1) {
    // A quote preceded by an odd number of backslashes is escaped.
    let slashes = 0;
    while (text.charCodeAt(close - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return close;
    close = text.indexOf('"', close + 1);
  }
  return text.length;
}

function isBinary(value: object): boolean {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/**
 * The nesting depth of a parsed value, walked iteratively, or `Infinity` as soon as it passes
 * `max`. Typed arrays, ArrayBuffers and Buffers count as one level and are not looked into.
 * Meant for trees (what parsers produce); a live value that shares sub-objects is walked once
 * per path to them.
 */
export function valueDepth(value: unknown, max = MAX_VALUE_DEPTH): number {
  if (typeof value !== 'object' || value === null) return 0;
  const pending: object[] = [value];
  const depths: number[] = [1];
  let deepest = 0;
  while (pending.length > 0) {
    const item = pending.pop()!;
    const depth = depths.pop()!;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > max) return Infinity;
    }
    if (isBinary(item)) continue;
    const children: unknown[] = Array.isArray(item) ? item : Object.values(item);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) {
        pending.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return deepest;
}

export interface DepthCheckOptions {
  /** What the value is, for the message ("task input", "worker frame"). Default "value". */
  what?: string;
  /** The error code to throw; both defaults' codes answer HTTP 400. Default TG_ERR_PROTOCOL. */
  code?: ErrorCode;
}

function tooDeep(max: number, { what = 'value', code = ErrorCode.PROTOCOL }: DepthCheckOptions) {
  return new TabgridError(
    code,
    `Invalid ${what}: nested deeper than ${max} levels of arrays and objects (the limit); ` +
      'flatten it, or send it as a string.',
  );
}

/**
 * Throws a {@link TabgridError} (TG_ERR_PROTOCOL unless `options.code` says otherwise; HTTP 400
 * either way) when a parsed value nests deeper than `max`. Iterative: safe on any depth. Call
 * it on every value received already parsed (socket.io payloads, REST bodies) before anything
 * else walks it.
 *
 * @example
 * checkDepth(payload, MAX_VALUE_DEPTH, { what: 'job:submit', code: ErrorCode.INVALID_REQUEST });
 */
export function checkDepth(
  value: unknown,
  max = MAX_VALUE_DEPTH,
  options: DepthCheckOptions = {},
): void {
  if (valueDepth(value, max) > max) throw tooDeep(max, options);
}

/** Like {@link checkDepth}, for JSON text, before `JSON.parse`. */
export function checkJsonDepth(
  text: string,
  max = MAX_DEPTH,
  options: DepthCheckOptions = {},
): void {
  if (jsonDepth(text, max) > max) throw tooDeep(max, options);
}

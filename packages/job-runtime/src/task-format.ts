/**
 * Part of the thread runtime shipped as source text (see thread-source.ts): self-contained, it
 * may use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { TaskLimits } from './task-limits.js';
import type { CapturedNatives } from './captured-natives.js';
import type { TaskApiHelpers } from './task-helpers.js';

/**
 * How job code's console arguments read as text, which series labels are valid, and the JSON
 * text of what it emits or collects.
 */
export function taskFormat(natives: CapturedNatives, helpers: TaskApiHelpers, limits: TaskLimits) {
  const { stringify, charCodeAt, NativeError, NativeTypeError, NativeRangeError } = natives;
  const { describe, toJson, deeperThan } = helpers;

  function formatOne(value: unknown): string {
    if (typeof value === 'string') return value;
    try {
      if (typeof value === 'object' && value !== null) {
        if (value instanceof NativeError) {
          const told = describe(value);
          return told.name + ': ' + told.message;
        }
        const text = stringify(value);
        return text === undefined ? '[object]' : text;
      }
      if (typeof value === 'function') return '[function]';
      if (typeof value === 'symbol') return 'Symbol()';
      return '' + (value as number);
    } catch {
      return '[object that cannot be shown]';
    }
  }

  function isLabel(label: unknown): label is string {
    if (typeof label !== 'string' || label.length === 0 || label.length > limits.labelLength) {
      return false;
    }
    for (let i = 0; i < label.length; i++) {
      const c = charCodeAt(label, i);
      const word = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
      // \w . : / space -
      if (!word && c !== 0x5f && c !== 0x2e && c !== 0x3a && c !== 0x2f && c !== 0x20 && c !== 0x2d)
        return false;
    }
    return true;
  }

  /** JSON text of a value job code hands over, or a TypeError saying what is wrong with it. */
  function dataJson(value: unknown, what: string): string {
    // The common case (a number per step) as JSON.stringify writes it, without its scan.
    if (typeof value === 'number') return value - value === 0 ? '' + value : 'null';
    let json: string;
    try {
      json = toJson(value);
    } catch (error) {
      throw new NativeTypeError(
        what + ': the value cannot be sent as JSON (' + describe(error).message + ')',
      );
    }
    if (json.length > 2 * limits.dataDepth && deeperThan(json, limits.dataDepth)) {
      throw new NativeRangeError(
        what + ': the value nests deeper than ' + limits.dataDepth + ' levels; flatten it',
      );
    }
    return json;
  }

  return { formatOne, isLabel, dataJson };
}

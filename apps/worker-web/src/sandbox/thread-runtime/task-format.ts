/**
 * Part of the thread runtime shipped as source text (see thread-source.ts): self-contained, it
 * may use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { TaskLimits } from '../task-limits.js';
import type { CapturedNatives } from './captured-natives.js';

/** How job code's console arguments read as text, and which series labels are valid. */
export function taskFormat(
  natives: CapturedNatives,
  describe: (error: unknown) => { name: string; message: string },
  limits: TaskLimits,
) {
  const { stringify, charCodeAt, NativeError } = natives;

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

  return { formatOne, isLabel };
}

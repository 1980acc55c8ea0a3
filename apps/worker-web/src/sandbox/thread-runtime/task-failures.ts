/**
 * Part of the thread runtime shipped as source text (see thread-source.ts): self-contained, it
 * may use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { OutcomeLimits } from '../outcome-limits.js';
import type { CapturedNatives } from './captured-natives.js';

/** A task's error as the protocol carries it. */
export type Failure = { name: string; message: string; stack: string };

/**
 * How a task's failure is told: a thrown value described, and the outcome bounds. The server
 * closes the socket on a frame breaking WORKER_LIMITS, losing every task of the batch: a result
 * or error over the limits becomes (or is cut to) something it accepts.
 */
export function taskFailures(natives: CapturedNatives, limits: OutcomeLimits) {
  const { stringify, round, charCodeAt, indexOf, slice } = natives;
  const maxResultBytes = limits.maxResultBytes;
  const maxValueDepth = limits.maxValueDepth;

  function describe(error: unknown): Failure {
    try {
      if (typeof error === 'object' && error !== null) {
        const { name, message, stack } = error as {
          name?: unknown;
          message?: unknown;
          stack?: unknown;
        };
        if (typeof message === 'string') {
          return {
            name: typeof name === 'string' ? name : 'Error',
            message,
            stack: typeof stack === 'string' ? stack : '',
          };
        }
        const text = stringify(error);
        return {
          name: 'Error',
          message: 'Run threw a non-Error value: ' + (text ?? 'an object'),
          stack: '',
        };
      }
      return {
        name: 'Error',
        message:
          typeof error === 'string' ? error : 'Run threw a non-Error value: ' + String(error),
        stack: '',
      };
    } catch {
      return { name: 'Error', message: 'Run threw a value that cannot be described', stack: '' };
    }
  }

  /** "65,536". */
  function thousands(n: number): string {
    let digits = '' + n;
    let out = '';
    while (digits.length > 3) {
      out = ',' + slice(digits, digits.length - 3, digits.length) + out;
      digits = slice(digits, 0, digits.length - 3);
    }
    return digits + out;
  }

  /** "20.1 MB" (MB of 2^20 bytes, as WORKER_LIMITS counts them). */
  function megabytes(bytes: number): string {
    return round(bytes / 104857.6) / 10 + ' MB';
  }

  /** `text` if it has at most `max` UTF-16 units, else its start and a marker saying so. */
  function cut(text: string, max: number): string {
    if (text.length <= max) return text;
    const marker = '\u2026 [cut at ' + thousands(max) + ' chars]';
    let end = max - marker.length;
    const last = charCodeAt(text, end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end--; // never half a surrogate pair
    return slice(text, 0, end) + marker;
  }

  function bounded(error: Failure): Failure {
    return {
      name: cut(error.name, limits.maxErrorNameLength),
      message: cut(error.message, limits.maxErrorMessageLength),
      stack: cut(error.stack, limits.maxErrorStackLength),
    };
  }

  /** UTF-8 bytes of JSON.stringify output (well-formed: no lone surrogates). */
  function utf8Length(text: string): number {
    let bytes = text.length;
    for (let i = 0; i < text.length; i++) {
      const c = charCodeAt(text, i);
      if (c >= 0x80) bytes += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
    }
    return bytes;
  }

  /** True when JSON text nests deeper than `max` (brackets outside strings). */
  function deeperThan(text: string, max: number): boolean {
    let depth = 0;
    for (let i = 0; i < text.length; i++) {
      const c = charCodeAt(text, i);
      if (c === 0x22) {
        // Skip the string: a quote after an even number of backslashes closes it.
        let close = indexOf(text, '"', i + 1);
        for (;;) {
          if (close === -1) return false; // unterminated: not stringify's output
          let slashes = 0;
          while (charCodeAt(text, close - 1 - slashes) === 0x5c) slashes++;
          if (slashes % 2 === 0) break;
          close = indexOf(text, '"', close + 1);
        }
        i = close;
      } else if (c === 0x5b || c === 0x7b) {
        if (++depth > max) return true;
      } else if (c === 0x5d || c === 0x7d) {
        depth--;
      }
    }
    return false;
  }

  /** Why the server would refuse a result's JSON text, as the task's error; else undefined. */
  function refusal(json: string): Failure | undefined {
    // Cheap first: a text under a third of the limit fits whatever its characters, and a text
    // of fewer than 2 × (max + 1) characters cannot hold max + 1 pairs of brackets.
    if (json.length * 3 > maxResultBytes) {
      const bytes = utf8Length(json);
      if (bytes > maxResultBytes) {
        return {
          name: 'ResultTooLarge',
          message:
            'Run returned ' +
            megabytes(bytes) +
            ' of JSON; a result may be at most ' +
            megabytes(maxResultBytes) +
            ' (' +
            thousands(maxResultBytes) +
            ' bytes: WORKER_LIMITS.maxFrameBytes less room for the frame around it): ' +
            'return less, or split the task into smaller ones',
          stack: '',
        };
      }
    }
    if (json.length > 2 * maxValueDepth && deeperThan(json, maxValueDepth)) {
      return {
        name: 'ResultTooDeep',
        message:
          'Run returned a value nested deeper than ' +
          maxValueDepth +
          ' levels of arrays and objects (MAX_VALUE_DEPTH, the limit): ' +
          'flatten it, or return it as a string',
        stack: '',
      };
    }
    return undefined;
  }

  return { describe, bounded, refusal };
}

/**
 * Part of the thread runtime shipped as source text (see thread-source.ts): self-contained, it
 * may use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { OutcomeLimits } from './outcome-limits.js';
import type { CapturedNatives } from './captured-natives.js';

/** A task's error as the protocol carries it. */
export type Failure = { name: string; message: string; stack: string };

/**
 * How a task's failure is told: a thrown value described, and the outcome bounds. The server
 * closes the socket on a frame breaking WORKER_LIMITS, losing every task of the batch: a result
 * or error over the limits becomes (or is cut to) something it accepts.
 */
export function taskFailures(natives: CapturedNatives, limits: OutcomeLimits) {
  const { stringify, round, charCodeAt, indexOf, slice, includes } = natives;
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
          const errorName = typeof name === 'string' ? name : 'Error';
          const told = withHint(errorName, message);
          return {
            name: errorName,
            message: told,
            stack: typeof stack === 'string' ? cleanStack(stack, errorName, message, told) : '',
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

  // The usual ReferenceError on a grid: Run uses a variable of the submitter's scope, which
  // stayed behind when the program was sent as text.
  const closureHint = "closures don't travel with the program: pass values in args";

  function withHint(name: string, message: string): string {
    if (name !== 'ReferenceError' || includes(message, closureHint)) return message;
    return message + ' (' + closureHint + ')';
  }

  /** V8's frame lines start so; the lines before the first one are the message. */
  const frameStart = '    at ';
  /** The thread's own script: the page starts it from a `data:text/javascript,` URL. */
  const sandboxUrl = 'data:text/javascript';
  /** Frame lines scanned past the message: job frames are the innermost, at the top. */
  const maxScannedChars = 1024 * 1024;
  /** Non-job frames kept between two job frames (Array.map, new Promise, …), at most. */
  const maxPendingChars = 2048;

  function isFrame(line: string): boolean {
    return slice(line, 0, frameStart.length) === frameStart;
  }

  function isJobFrame(line: string): boolean {
    // job.js is the program's sourceURL (thread-main.ts); nothing of the runtime is named so.
    return (
      (includes(line, '(job.js:') || includes(line, ' job.js:') || includes(line, '@job.js:')) &&
      !includes(line, 'data:')
    );
  }

  /**
   * The stack as the user reads it: the message lines, then the frames in job.js and the
   * anonymous or native frames between two of them; no frame of the runtime (whose `data:`
   * URL is ~27 KB of URL-encoded source each), at most {@link limits.maxStackBytes}. Runs on
   * failures only. A V8 stack has a header and `    at` lines; any other (Firefox's
   * `name@url:line:col`) keeps its lines but those of the runtime's URL.
   */
  function cleanStack(stack: string, name: string, message: string, told: string): string {
    if (stack === '') return '';
    const headerEnd = indexOf(stack, '\n' + frameStart, 0);
    let header = headerEnd === -1 ? stack : slice(stack, 0, headerEnd);
    if (told !== message && header === name + ': ' + message) header = name + ': ' + told;
    let frames = '';
    let pos = headerEnd === -1 ? 0 : headerEnd + 1;
    if (headerEnd === -1) {
      // No V8 frames: a stack job code set, or another engine's. Drop the runtime's lines only.
      if (!includes(header, sandboxUrl)) return cutStack(header);
      header = '';
    }
    const stop = pos + maxScannedChars < stack.length ? pos + maxScannedChars : stack.length;
    let pending = '';
    while (pos < stop && frames.length <= maxStackBytes) {
      let end = indexOf(stack, '\n', pos);
      if (end === -1) end = stack.length;
      const line = slice(stack, pos, end);
      pos = end + 1;
      if (isJobFrame(line)) {
        frames = frames + pending + '\n' + line;
        pending = '';
      } else if (includes(line, 'data:') || (!isFrame(line) && headerEnd !== -1)) {
        pending = ''; // the runtime's frame: what lies past it is no longer between job frames
      } else if (headerEnd === -1) {
        frames = frames + '\n' + line;
      } else if (pending.length < maxPendingChars) {
        pending = pending + '\n' + line;
      }
    }
    if (headerEnd === -1) frames = slice(frames, 1, frames.length);
    return cutStack(cutHeader(header) + frames);
  }

  const maxStackBytes = limits.maxStackBytes;
  /** The message lines get a quarter of the stack (the message field has it whole). */
  const maxHeaderBytes = maxStackBytes >> 2;

  /** UTF-16 units of `text`'s longest start within `max` UTF-8 bytes, never half a pair. */
  function fitBytes(text: string, max: number): number {
    let bytes = 0;
    let i = 0;
    while (i < text.length) {
      const c = charCodeAt(text, i);
      let units = 1;
      let size = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const next = charCodeAt(text, i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          units = 2;
          size = 4;
        }
      }
      if (bytes + size > max) break;
      bytes += size;
      i += units;
    }
    return i;
  }

  function cutBytes(text: string, max: number, marker: string): string {
    const whole = fitBytes(text, max);
    if (whole === text.length) return text;
    // The marker is ASCII but for the ellipsis (3 bytes): its length + 2 bytes covers it.
    return slice(text, 0, fitBytes(text, max - marker.length - 2)) + marker;
  }

  function cutHeader(header: string): string {
    return cutBytes(header, maxHeaderBytes, '\u2026 [message cut]');
  }

  function cutStack(text: string): string {
    return cutBytes(
      text,
      maxStackBytes,
      '\n    \u2026 [stack cut at ' + thousands(maxStackBytes) + ' bytes]',
    );
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

  /**
   * Why the server would refuse a result's JSON text, as the task's error; else undefined.
   * `attached`: bytes of its typed arrays sent beside the text (issue 18), which count too.
   */
  function refusal(json: string, attached = 0): Failure | undefined {
    // Cheap first: a text under a third of the limit fits whatever its characters, and a text
    // of fewer than 2 × (max + 1) characters cannot hold max + 1 pairs of brackets.
    if (json.length * 3 + attached > maxResultBytes) {
      const bytes = utf8Length(json) + attached;
      if (bytes > maxResultBytes) {
        return {
          name: 'ResultTooLarge',
          message:
            'Run returned ' +
            megabytes(bytes) +
            (attached > 0 ? ' of JSON and typed arrays' : ' of JSON') +
            '; a result may be at most ' +
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

  return { describe, bounded, refusal, deeperThan, utf8Length, thousands };
}

/**
 * What an outcome may weigh so that the server accepts the frame carrying it (it closes the
 * socket, losing every other task of the batch, on a frame that breaks {@link WORKER_LIMITS}).
 * Job code decides what `Run` returns and throws, so the thread runtime bounds each outcome as
 * it builds it (thread-runtime/task-failures.ts, given {@link OUTCOME_LIMITS} as constants in
 * its source), and the page bounds each frame (runtime/outcome-buffer.ts).
 */
import { MAX_VALUE_DEPTH } from '@tabgrid/protocol/limits';
import { WORKER_LIMITS } from '@tabgrid/protocol/worker';

/**
 * Bytes of a frame left for what surrounds one result: the frame's envelope
 * (`{"type":"outcomes","credit":65536,"items":[`…`]}`, ~50 bytes) and the outcome's own keys
 * (jobId ≤ 64 chars, index, ms: ~150 bytes). 64 KiB is far more than both.
 */
export const RESULT_MARGIN_BYTES = 64 * 1024;

/**
 * Most UTF-8 bytes of one result's JSON text: 15.94 MB. A larger result becomes a
 * `ResultTooLarge` error of its task, so an honest outcome always fits in a frame alone.
 */
export const MAX_RESULT_BYTES = WORKER_LIMITS.maxFrameBytes - RESULT_MARGIN_BYTES;

/**
 * Most UTF-8 bytes of the items of one frame (everything between `[` and `]`): the frame limit
 * less room for the envelope. The page never sends an outcome larger than this.
 */
export const MAX_FRAME_ITEMS_BYTES = WORKER_LIMITS.maxFrameBytes - 1024;

/** The bounds the thread runtime applies to each outcome it builds (plain JSON: it is inlined). */
export interface OutcomeLimits {
  /** Most UTF-8 bytes of a result's JSON text. */
  maxResultBytes: number;
  /** Most levels of arrays and objects a result may nest. */
  maxValueDepth: number;
  /** Longest error name, message and stack, in UTF-16 code units. */
  maxErrorNameLength: number;
  maxErrorMessageLength: number;
  maxErrorStackLength: number;
  /**
   * Most UTF-8 bytes of a cleaned stack (job.js frames only, see task-failures.ts): far below
   * the protocol's limit, so a stack stays readable in the store, the CLI and the dashboard.
   */
  maxStackBytes: number;
}

/** A thrown error's stack is cut to 4 KB, saying so at the cut. */
export const MAX_STACK_BYTES = 4096;

export const OUTCOME_LIMITS: Readonly<OutcomeLimits> = Object.freeze({
  maxResultBytes: MAX_RESULT_BYTES,
  maxValueDepth: MAX_VALUE_DEPTH,
  maxErrorNameLength: WORKER_LIMITS.maxErrorNameLength,
  maxErrorMessageLength: WORKER_LIMITS.maxErrorMessageLength,
  maxErrorStackLength: WORKER_LIMITS.maxErrorStackLength,
  maxStackBytes: MAX_STACK_BYTES,
});

/** UTF-8 bytes of a string (a lone surrogate counts 3, as TextEncoder writes U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // the pair: 2 units, 4 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

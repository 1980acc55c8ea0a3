/**
 * How many typed arrays one socket.io message may carry, and how senders keep under it.
 *
 * socket.io sends every typed array or ArrayBuffer of a message as a binary attachment of its
 * own, and its parser refuses a message with more attachments than it was configured for (10
 * by default: past that the connection drops, and all a user sees is "connection dropped").
 * Both ends of the SDK socket (server and SDK) configure their parsers with
 * {@link MAX_SOCKET_ATTACHMENTS}, and both cut what they send so that no message exceeds it:
 * the SDK cuts submission batches, the server cuts outcome and feed pushes. Only one value
 * holding more typed arrays than that (a task, a job's args, a message to a job) is refused,
 * with {@link tooManyAttachments}, before anything is sent.
 */
import { BYTES_TAG } from './bytes.js';
import { ErrorCode, TabgridError } from './errors.js';

/** Most binary attachments (typed arrays, ArrayBuffers) in one socket.io message, both ways. */
export const MAX_SOCKET_ATTACHMENTS = 10_000;

function isBinary(value: object): boolean {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/**
 * The attachments socket.io makes of a live or socket-form `value` (one per typed array or
 * ArrayBuffer), counted iteratively; stops counting once past `max` (returns max + 1).
 *
 * @example
 * countAttachments({ a: new Float32Array(4), b: [new Uint8Array(2)] }); // 2
 */
export function countAttachments(value: unknown, max = MAX_SOCKET_ATTACHMENTS): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  const pending: object[] = [value];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (isBinary(item)) {
      if (++count > max) return count;
      continue;
    }
    const children: unknown[] = Array.isArray(item) ? item : Object.values(item);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) pending.push(child);
    }
  }
  return count;
}

/**
 * The bytes tags of a parsed text-form value (see ./bytes.ts): the attachments its socket form
 * will make. Stops counting once past `max` (returns max + 1).
 */
export function countTextTags(value: unknown, max = MAX_SOCKET_ATTACHMENTS): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  const pending: object[] = [value];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (!Array.isArray(item) && BYTES_TAG in item) {
      if (++count > max) return count;
      continue;
    }
    const children: unknown[] = Array.isArray(item) ? item : Object.values(item);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) pending.push(child);
    }
  }
  return count;
}

/**
 * TG_ERR_PAYLOAD_TOO_LARGE for one value with more typed arrays than one message may carry.
 * `what` names the value as the user knows it ("tasks[3]", "the job's args").
 */
export function tooManyAttachments(what: string): TabgridError {
  return new TabgridError(
    ErrorCode.PAYLOAD_TOO_LARGE,
    `${what} holds more than ${MAX_SOCKET_ATTACHMENTS.toLocaleString('en-US')} typed arrays ` +
      '(MAX_SOCKET_ATTACHMENTS, the limit per value: each travels as its own binary attachment). ' +
      'Pack them into fewer, larger arrays (one Float32Array of n × m values, say).',
  );
}

/**
 * Cuts `items` into runs whose attachments add up to at most `max` each, in order, given each
 * item's count. An item over `max` on its own gets a run of its own (its sender decides what to
 * do with it). Never returns an empty run; one run when everything fits.
 */
export function cutByAttachments<T>(
  items: readonly T[],
  countOf: (item: T) => number,
  max = MAX_SOCKET_ATTACHMENTS,
): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let used = 0;
  for (const item of items) {
    const count = countOf(item);
    if (run.length > 0 && used + count > max) {
      runs.push(run);
      run = [];
      used = 0;
    }
    run.push(item);
    used += count;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

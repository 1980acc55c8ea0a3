/**
 * Limits on what callers send, checked before any work proportional to it (and before any
 * recursive walk: `JSON.stringify`, the bytes codec and the schema checks all recurse).
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { MAX_DEPTH, checkJsonDepth } from '@tabgrid/protocol/limits';

/** Largest JSON request body (job creation with its program and `args`; a JSON-array upload). */
export const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;
/** Largest socket.io message (engine.io `maxHttpBufferSize`), attachments included. */
export const MAX_SOCKET_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Most binary attachments in one socket.io message (one per typed array it carries). */
export { MAX_SOCKET_ATTACHMENTS } from '@tabgrid/protocol/attachments';
/**
 * Most bytes the typed arrays of one socket.io message may add up to, counting each place a value
 * refers to an attachment: socket.io rebuilds a repeated placeholder as the same buffer, so
 * 1 MB referred to 400 times would otherwise be stored as 400 MB.
 */
export const MAX_SOCKET_DECODED_BYTES = MAX_SOCKET_MESSAGE_BYTES;

function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/**
 * Checks a decoded socket.io payload before anything walks it: nesting depth, and the bytes its
 * typed arrays add up to when every reference counts (see {@link MAX_SOCKET_DECODED_BYTES}).
 * Iterative, so a 10,000-level payload is refused instead of overflowing the stack.
 * The depth bound is the protocol's {@link MAX_DEPTH} for a whole message; each value in it (a
 * task, `args`) is held to `MAX_VALUE_DEPTH` where the core takes it.
 */
export function checkSocketPayload(payload: unknown, what: string): void {
  if (typeof payload !== 'object' || payload === null) return;
  const stack: { value: object; depth: number }[] = [{ value: payload, depth: 1 }];
  let bytes = 0;
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (isBinary(value)) {
      bytes += value.byteLength;
      if (bytes > MAX_SOCKET_DECODED_BYTES) {
        throw new TabgridError(
          ErrorCode.PAYLOAD_TOO_LARGE,
          `${what} refers to more than ${MAX_SOCKET_DECODED_BYTES / 1024 / 1024} MB of typed arrays (each reference counts): send each array once, or fewer per message.`,
        );
      }
      continue;
    }
    if (depth > MAX_DEPTH) {
      throw new TabgridError(
        ErrorCode.INVALID_REQUEST,
        `${what} is nested deeper than ${MAX_DEPTH} levels of arrays and objects: flatten it.`,
      );
    }
    const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) {
        stack.push({ value: child, depth: depth + 1 });
      }
    }
  }
}

/** Throws TG_ERR_INVALID_REQUEST when a request body's JSON text nests deeper than MAX_DEPTH. */
export function checkBodyDepth(text: string): void {
  checkJsonDepth(text, MAX_DEPTH, { what: 'request body', code: ErrorCode.INVALID_REQUEST });
}

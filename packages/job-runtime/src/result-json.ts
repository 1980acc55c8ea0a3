/**
 * Part of the thread runtime shipped as source text (see thread-source.ts): self-contained, it
 * may use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { faithfulJson } from '@tabgrid/protocol/faithful-json';
import type { CapturedNatives } from './captured-natives.js';
import type { Failure } from './task-failures.js';

/**
 * Values to and from JSON text. Typed arrays and ArrayBuffers travel in the protocol's text
 * form (@tabgrid/protocol/bytes, which this self-contained source cannot import):
 * { "$tabgrid.bytes": kind, base64 }.
 *
 * A result JSON cannot carry faithfully (a Date, NaN, a Map, a cycle, …: see
 * @tabgrid/protocol/faithful-json, whose checker `faithful` is, shipped as a part of its own)
 * fails its task saying where and what to return instead, unless the job's program starts with
 * the lossy directive (the SDK's `values: 'lossy'`), which keeps JSON.stringify's conversion.
 */
export function resultJson(
  natives: CapturedNatives,
  describe: (error: unknown) => Failure,
  faithful: ReturnType<typeof faithfulJson>,
  maxDepth: number,
  /** What one frame may carry of one result (OutcomeLimits.maxResultBytes). */
  maxResultBytes: number,
) {
  const { stringify, isView, charCodeAt, fromCharCode, toBase64, fromBase64, subarray } = natives;
  const { defineProperty, viewKind } = natives;
  const { NativeArrayBuffer, NativeUint8Array, NativeTypeError, slice } = natives;
  const { bytesToBase64, bytesFromBase64, copyBytes, getOwnPropertyDescriptor } = natives;
  const { arrayIterator, arrayIteratorNext, ArrayPrototype } = natives;
  const iteratorPrototype = natives.getPrototypeOf([][Symbol.iterator]()) as object;
  const { faultOf, convertible } = faithful;
  const BYTES_TAG = '$tabgrid.bytes';
  /** LOSSY_VALUES_DIRECTIVE of @tabgrid/protocol/faithful-json (a test keeps the two equal). */
  const LOSSY_DIRECTIVE = '"tabgrid values: lossy";';
  let lossy = false;
  type ViewClass = new (buffer: ArrayBuffer) => ArrayBufferView;
  // Null-prototype tables and index loops: no Map or iterator method job code could patch.
  const views = Object.create(null) as Record<string, ViewClass | undefined>;
  const viewKinds: string[] = [];
  const viewClasses: ViewClass[] = [];
  for (const kind of [
    'Int8Array',
    'Uint8Array',
    'Uint8ClampedArray',
    'Int16Array',
    'Uint16Array',
    'Int32Array',
    'Uint32Array',
    'Float32Array',
    'Float64Array',
    'BigInt64Array',
    'BigUint64Array',
  ]) {
    const View = (globalThis as Record<string, unknown>)[kind];
    if (typeof View === 'function') {
      views[kind] = View as ViewClass;
      viewKinds[viewKinds.length] = kind;
      viewClasses[viewClasses.length] = View as ViewClass;
    }
  }
  const viewCount = viewKinds.length;

  function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
    return value instanceof NativeArrayBuffer || isView(value);
  }

  /**
   * 'bytes' if `value` holds a typed array or ArrayBuffer, 'tag' if it misuses the tag key.
   * Bounded in depth: past `maxDepth` a cycle or a deep value is JSON.stringify's to refuse.
   */
  function scan(value: unknown, depth: number): 'bytes' | 'tag' | undefined {
    if (typeof value !== 'object' || value === null || depth > maxDepth) return undefined;
    if (isBinary(value)) return 'bytes';
    let found: 'bytes' | 'tag' | undefined;
    for (const key in value) {
      if (key === BYTES_TAG) return 'tag';
      found ??= scan((value as Record<string, unknown>)[key], depth + 1);
    }
    return found;
  }

  // The bytes encoded here are the job's own result: a job that patches typed-array getters
  // or iterators only garbles its own value.
  function tagBytes(value: ArrayBuffer | ArrayBufferView): object {
    let kind = 'ArrayBuffer';
    for (let i = 0; i < viewCount; i++) {
      if (value instanceof (viewClasses[i] as ViewClass)) kind = viewKinds[i] as string;
    }
    const bytes =
      value instanceof NativeArrayBuffer
        ? new NativeUint8Array(value)
        : new NativeUint8Array(value.buffer, value.byteOffset, value.byteLength);
    if (bytesToBase64) return { [BYTES_TAG]: kind, base64: bytesToBase64(bytes) };
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += fromCharCode(...subarray(bytes, i, i + 0x8000));
    }
    return { [BYTES_TAG]: kind, base64: toBase64(text) };
  }

  /** JSON.parse reviver: tagged bytes back to the typed array (or ArrayBuffer) they were. */
  function reviveBytes(_key: string, value: unknown): unknown {
    const tagged = value as Record<string, unknown> | null;
    if (typeof tagged !== 'object' || tagged === null) return value;
    const kind = tagged[BYTES_TAG];
    if (typeof kind !== 'string' || typeof tagged.base64 !== 'string') return value;
    // A fresh array of the exact size, from either branch: its buffer is the value's own.
    let bytes: Uint8Array<ArrayBuffer>;
    if (bytesFromBase64) {
      bytes = bytesFromBase64(tagged.base64);
    } else {
      const raw = fromBase64(tagged.base64);
      bytes = new NativeUint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = charCodeAt(raw, i);
    }
    const View = views[kind];
    return View ? new View(bytes.buffer) : bytes.buffer;
  }

  // ---- The attached form: Run's typed arrays as bytes, for the page (issue 18) ---------------
  // `{ "$tabgrid.bytes": kind, "at": offset, "length": n }` into the results message's
  // `attachments`, in order: each a copy of the result's bytes in a buffer of its own,
  // transferred to the page, which puts them in its binary frame as they are (no base64).
  /** Attached bytes of the current results message (null-prototype, index-keyed). */
  let attachments = Object.create(null) as Record<number, ArrayBuffer>;
  let attachmentCount = 0;
  let attachedBytes = 0;

  function attachBytes(value: ArrayBuffer | ArrayBufferView): object {
    // Read from the internal slot: right for a typed array of any realm, and unpatchable.
    const view = viewKind(value);
    const kind = view !== undefined && views[view] !== undefined ? view : 'ArrayBuffer';
    const whole = view === undefined && !isView(value);
    const part = value as ArrayBufferView;
    const bytes = whole
      ? new NativeUint8Array(value)
      : new NativeUint8Array(part.buffer, part.byteOffset, part.byteLength);
    const copy = copyBytes(bytes).buffer;
    attachments[attachmentCount++] = copy;
    const at = attachedBytes;
    attachedBytes += copy.byteLength;
    return { [BYTES_TAG]: kind, at, length: copy.byteLength };
  }

  /**
   * The attachments so far as a transfer list, and starts a new message. Read through the
   * array iterator by postMessage: if job code has replaced it, the list is not handed over as
   * a transfer (the page gets copies then), so no job function ever sees the runtime's list.
   */
  function takeAttachments(): { list: ArrayBuffer[]; transfer: boolean } {
    const list: ArrayBuffer[] = [];
    for (let i = 0; i < attachmentCount; i++) {
      defineProperty(list, i, {
        value: attachments[i],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    attachments = Object.create(null) as Record<number, ArrayBuffer>;
    attachmentCount = 0;
    attachedBytes = 0;
    const iterator = getOwnPropertyDescriptor(ArrayPrototype, Symbol.iterator);
    const next = getOwnPropertyDescriptor(iteratorPrototype, 'next');
    const transfer = iterator?.value === arrayIterator && next?.value === arrayIteratorNext;
    return { list, transfer };
  }

  /** A mark to {@link dropSince}: the attachments so far. */
  function attachMark(): number {
    return attachmentCount;
  }

  /** Bytes attached since `mark` (what one result attached). */
  function bytesSince(mark: number): number {
    let bytes = 0;
    for (let i = mark; i < attachmentCount; i++)
      bytes += (attachments[i] as ArrayBuffer).byteLength;
    return bytes;
  }

  /** Forgets the attachments since `mark` (a refused result, or one to encode again). */
  function dropSince(mark: number): void {
    attachedBytes -= bytesSince(mark);
    attachmentCount = mark;
  }

  /**
   * Whether a results message of `textLength` UTF-16 units of outcomes and the bytes attached
   * so far would outgrow what one frame may carry (3 bytes a unit at most: the texts around
   * typed arrays are short, so the bound costs nothing).
   */
  function outgrows(textLength: number): boolean {
    return textLength * 3 + attachedBytes > maxResultBytes;
  }

  /** Attachments are waiting for the next results message. */
  function hasAttachments(): boolean {
    return attachmentCount > 0;
  }

  /** JSON text of a value; typed arrays in the text form, or the attached form with `attach`. */
  function toJson(value: unknown, attach = false): string {
    const found = scan(value, 0);
    if (found === 'tag') {
      throw new NativeTypeError(
        'Run returned a value using the reserved key "' + BYTES_TAG + '"; rename that key',
      );
    }
    let text: string | undefined;
    try {
      text =
        found === 'bytes'
          ? stringify(value, function (this: unknown, key: string, current: unknown) {
              const original = (this as Record<string, unknown>)[key];
              if (!isBinary(original)) return current;
              return attach ? attachBytes(original) : tagBytes(original);
            })
          : stringify(value);
    } catch (error) {
      throw new NativeTypeError(
        'Run returned a value that cannot be sent as JSON (' +
          describe(error).message +
          '); return plain JSON values',
      );
    }
    return text === undefined ? 'null' : text;
  }

  /** Reads the job's values mode from its program (the thread holds one job for its life). */
  function valuesFor(program: string): void {
    lossy = slice(program, 0, LOSSY_DIRECTIVE.length) === LOSSY_DIRECTIVE;
  }

  /**
   * JSON text of Run's result; else throws the task's failure (a plain Failure: no stack, since
   * the runtime's frames say nothing), saying where JSON would change the result and what to
   * return instead. A Run that returns nothing (undefined) settles with null, as ever.
   */
  function resultToJson(value: unknown, attach = false): string {
    if (value === undefined) return 'null';
    const fault = faultOf(value, 'result', -1, lossy);
    if (fault === undefined) return toJson(value, attach);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a Failure: describe() keeps it as is
    throw fault.deep ? tooDeep() : unfaithfulFailure(value, fault.message);
  }

  /** Told as the server's bound is (task-failures.ts refusal), before any recursive walk. */
  function tooDeep(): Failure {
    return {
      name: 'ResultTooDeep',
      message:
        'Run returned a value nested deeper than ' +
        maxDepth +
        ' levels of arrays and objects (MAX_VALUE_DEPTH, the limit): ' +
        'flatten it, or return it as a string',
      stack: '',
    };
  }

  /** No stack: the runtime's frames say nothing about where the value was made. */
  function unfaithfulFailure(value: unknown, why: string): Failure {
    const escape =
      !lossy && convertible(value)
        ? ". To convert such values as JSON.stringify does instead, create the job with values: 'lossy'"
        : '';
    return { name: 'TypeError', message: why + escape + '.', stack: '' };
  }

  return {
    BYTES_TAG,
    reviveBytes,
    toJson,
    resultToJson,
    valuesFor,
    scan,
    takeAttachments,
    attachMark,
    bytesSince,
    dropSince,
    outgrows,
    hasAttachments,
  };
}

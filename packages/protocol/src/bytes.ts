/**
 * Typed arrays and ArrayBuffers inside task inputs and results.
 *
 * JSON has no bytes, so a typed array travels as a tagged object, in one of two forms:
 *
 * - the **text form**, in JSON text (storage, worker frames, REST):
 *   `{ "$tabgrid.bytes": "Float64Array", "base64": "AAAAAAAA+D8=" }`
 * - the **socket form**, on socket.io (SDK and dashboard), whose binary attachments carry the
 *   bytes as they are, without base64: `{ "$tabgrid.bytes": "Float64Array", "data": <bytes> }`
 *
 * Everything else is plain JSON. An object that merely happens to use the `$tabgrid.bytes`
 * key is refused with TG_ERR_INVALID_TASK, so the tag can never be forged by accident.
 */
import { base64, unbase64 } from './base64.js';
import { ErrorCode, TabgridError } from './errors.js';

export const BYTES_TAG = '$tabgrid.bytes';

/** The kinds of binary values that round-trip, by constructor name. */
const KINDS = {
  ArrayBuffer: undefined,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;

export type BytesKind = keyof typeof KINDS;
type Binary = ArrayBuffer | ArrayBufferView;

function isBinary(value: unknown): value is Binary {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function kindOf(value: Binary): BytesKind {
  if (value instanceof ArrayBuffer) return 'ArrayBuffer';
  const name = value.constructor.name;
  if (name in KINDS && !(value instanceof DataView)) return name as BytesKind;
  // Buffer (a Uint8Array subclass) and anything else that views bytes.
  return value instanceof Uint8Array ? 'Uint8Array' : 'ArrayBuffer';
}

function bytesOf(value: Binary): Uint8Array {
  return value instanceof ArrayBuffer
    ? new Uint8Array(value)
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function toKind(kind: BytesKind, bytes: Uint8Array): Binary {
  // A copy, so the result owns aligned memory (socket attachments may share a bigger buffer).
  const buffer = bytes.slice().buffer;
  const View = KINDS[kind];
  return View === undefined ? buffer : new View(buffer);
}

function isKind(value: unknown): value is BytesKind {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(KINDS, value);
}

/** Bytes per element of a kind (1 for an ArrayBuffer). */
function elementSize(kind: BytesKind): number {
  return KINDS[kind]?.BYTES_PER_ELEMENT ?? 1;
}

/** Why `size` bytes cannot be a typed array of `kind`, or undefined when they can. */
export function bytesKindProblem(kind: unknown, size: number): string | undefined {
  if (!isKind(kind)) {
    return `with an unknown kind (${typeof kind === 'string' ? kind.slice(0, 40) : typeof kind})`;
  }
  const whole = size % elementSize(kind) === 0;
  return whole ? undefined : `whose ${size} bytes are not a whole number of ${kind} elements`;
}

/** Base64, padded or not (atob takes both; btoa pads). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Why a text-form tag cannot be turned back into its typed array (so the SDK, or the server
 * pushing it, would throw later), or undefined when it can.
 */
function textTagProblem(tagged: Record<string, unknown>, base64Made = false): string | undefined {
  const kind = tagged[BYTES_TAG];
  if (!isKind(kind)) return bytesKindProblem(kind, 0);
  // The socket form a binary frame decodes to on the server (bytes views, nothing to parse).
  if (tagged.data instanceof Uint8Array) return bytesKindProblem(kind, tagged.data.length);
  const text = tagged.base64;
  if (typeof text !== 'string') return 'without base64 bytes';
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const digits = text.length - padding;
  if (
    (!base64Made && !BASE64.test(text)) ||
    digits % 4 === 1 ||
    (padding > 0 && text.length % 4 !== 0)
  ) {
    return 'whose base64 is malformed';
  }
  return bytesKindProblem(kind, Math.floor((digits * 3) / 4));
}

export interface TextFormCheck {
  /**
   * Every tag's base64 was written by this package from bytes (a decoded binary frame, see
   * ./binary-frame.ts): its characters are not scanned again (a regular expression over every
   * byte's digit, a second of server CPU per ~100 MB); the kind and the element count are.
   */
  base64Made?: boolean;
}

/**
 * Throws a {@link TabgridError} (TG_ERR_PROTOCOL unless `code` says otherwise) when a parsed
 * text-form value (or a socket-form one whose `data` are Uint8Arrays, as a binary frame decodes
 * with views) holds a bytes tag that does not decode to its typed array: an unknown kind,
 * malformed base64, or a byte count that is not a whole number of elements. What a worker
 * sends is checked so, so no stored result can make a later push or a consumer throw.
 * Iterative.
 */
export function checkTextForm(
  value: unknown,
  what = 'value',
  code: ErrorCode = ErrorCode.PROTOCOL,
  { base64Made = false }: TextFormCheck = {},
): void {
  if (typeof value !== 'object' || value === null) return;
  const pending: object[] = [value];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (!Array.isArray(item) && BYTES_TAG in item) {
      const problem = textTagProblem(item, base64Made);
      if (problem) throw new TabgridError(code, `Invalid ${what}: a bytes tag ${problem}.`);
      continue;
    }
    const children: unknown[] = Array.isArray(item) ? item : Object.values(item);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) pending.push(child);
    }
  }
}

function badTag(where: string): TabgridError {
  return new TabgridError(
    ErrorCode.INVALID_TASK,
    `A value uses the reserved key "${BYTES_TAG}" ${where}. That key marks typed arrays; ` +
      'rename the key, or send the typed array itself.',
  );
}

/**
 * True when `value` holds a typed array, an ArrayBuffer or a bytes tag anywhere. Iterative, so
 * no depth overflows the stack.
 */
export function containsBytes(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const pending: object[] = [value];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (isBinary(item)) return true;
    if (Array.isArray(item)) {
      for (const child of item as unknown[]) {
        if (typeof child === 'object' && child !== null) pending.push(child);
      }
      continue;
    }
    for (const key in item) {
      if (key === BYTES_TAG) return true;
      const child = (item as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) pending.push(child);
    }
  }
  return false;
}

/** Sets an own property, `__proto__` included (a plain assignment would set the prototype). */
function setOwn(target: Record<string, unknown>, key: string, item: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value: item,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = item;
  }
}

/**
 * Copies `value`, replacing what `swap` recognises (the replacement is not looked into).
 * Iterative, so no depth overflows the stack.
 */
export function mapDeep(value: unknown, swap: (value: object) => unknown): unknown {
  const root: Record<string, unknown> = {};
  // Each entry: a value to copy, and where its copy goes.
  const pending: { item: unknown; into: Record<string, unknown>; key: string }[] = [
    { item: value, into: root, key: 'value' },
  ];
  while (pending.length > 0) {
    const { item, into, key } = pending.pop()!;
    if (typeof item !== 'object' || item === null) {
      setOwn(into, key, item);
      continue;
    }
    const swapped = swap(item);
    // Dates and the like: JSON (and socket.io) call their toJSON later, as they always would.
    if (swapped !== item || typeof (item as { toJSON?: unknown }).toJSON === 'function') {
      setOwn(into, key, swapped);
      continue;
    }
    if (Array.isArray(item)) {
      const copy = new Array<unknown>(item.length);
      setOwn(into, key, copy);
      const slots = copy as unknown as Record<string, unknown>;
      for (let i = 0; i < item.length; i++) {
        pending.push({ item: (item as unknown[])[i], into: slots, key: String(i) });
      }
      continue;
    }
    const copy: Record<string, unknown> = {};
    setOwn(into, key, copy);
    for (const [childKey, child] of Object.entries(item)) {
      // Reserve the key now, so the copy keeps the original's key order.
      setOwn(copy, childKey, undefined);
      pending.push({ item: child, into: copy, key: childKey });
    }
  }
  return root.value;
}

export { base64, unbase64 };

/** A live value → its socket form (for sending on socket.io). Plain JSON comes back as is. */
export function toSocketForm(value: unknown): unknown {
  if (!containsBytes(value)) return value;
  return mapDeep(value, (item) => {
    if (isBinary(item)) return { [BYTES_TAG]: kindOf(item), data: bytesOf(item) };
    if (BYTES_TAG in item) throw badTag('in a task or result');
    return item;
  });
}

/**
 * A socket-form value → live, typed arrays restored (what the SDK hands to its user). Also
 * accepts the text form, so a consumer never depends on which one the server sent.
 */
export function fromSocketForm(value: unknown): unknown {
  if (!containsBytes(value)) return value;
  return mapDeep(value, (item) => {
    const tagged = item as Record<string, unknown>;
    if (!(BYTES_TAG in tagged)) return item;
    const kind = tagged[BYTES_TAG];
    const data = tagged.data ?? tagged.base64;
    if (!isKind(kind)) throw badTag(`with an unknown kind (${String(kind)})`);
    if (typeof data === 'string') return toKind(kind, unbase64(data));
    if (isBinary(data)) return toKind(kind, bytesOf(data));
    throw badTag('without bytes');
  });
}

/**
 * Any value (live, socket form or text form) → the text form: what JSON text carries. Plain
 * JSON comes back as is. With `seen`, a binary value met a second time (in this value or in an
 * earlier one given the same set) is refused, see {@link socketFormToJson}.
 */
export function toTextForm(value: unknown, seen?: Set<object>): unknown {
  if (!containsBytes(value)) return value;
  const once = (bytes: Binary): Binary => {
    if (!seen) return bytes;
    if (seen.has(bytes)) throw reusedAttachment();
    seen.add(bytes);
    return bytes;
  };
  return mapDeep(value, (item) => {
    if (isBinary(item)) return { [BYTES_TAG]: kindOf(item), base64: base64(bytesOf(once(item))) };
    const tagged = item as Record<string, unknown>;
    if (!(BYTES_TAG in tagged)) return item;
    const kind = tagged[BYTES_TAG];
    if (!isKind(kind)) throw badTag(`with an unknown kind (${String(kind)})`);
    // Already the text form (a REST client may send that): kept as it is, if it decodes.
    if (typeof tagged.base64 === 'string') {
      const problem = textTagProblem(tagged);
      if (problem) throw badTag(problem);
      return { [BYTES_TAG]: kind, base64: tagged.base64 };
    }
    if (!isBinary(tagged.data)) throw badTag('that is not a typed array');
    return { [BYTES_TAG]: kind, base64: base64(bytesOf(once(tagged.data))) };
  });
}

/**
 * What a binary value or a bytes tag (socket or text form) holds: its kind and its bytes (a view
 * for a binary, decoded for base64). Throws TG_ERR_INVALID_TASK as {@link toTextForm} does for a
 * forged or malformed tag, and (with `seen`) for a binary met twice. For ./packed-value.ts.
 */
export function bytesParts(
  item: object,
  seen?: Set<object>,
): { kind: BytesKind; bytes: Uint8Array } | undefined {
  const once = (bytes: Binary): Uint8Array => {
    if (seen?.has(bytes)) throw reusedAttachment();
    seen?.add(bytes);
    return bytesOf(bytes);
  };
  if (isBinary(item)) return { kind: kindOf(item), bytes: once(item) };
  const tagged = item as Record<string, unknown>;
  if (!(BYTES_TAG in tagged)) return undefined;
  const kind = tagged[BYTES_TAG];
  if (!isKind(kind)) throw badTag(`with an unknown kind (${String(kind)})`);
  if (typeof tagged.base64 === 'string') {
    const problem = textTagProblem(tagged);
    if (problem) throw badTag(problem);
    return { kind, bytes: unbase64(tagged.base64) };
  }
  if (!isBinary(tagged.data)) throw badTag('that is not a typed array');
  const bytes = once(tagged.data);
  const problem = bytesKindProblem(kind, bytes.length);
  if (problem) throw badTag(problem);
  return { kind, bytes };
}

function reusedAttachment(): TabgridError {
  return new TabgridError(
    ErrorCode.INVALID_TASK,
    'A message uses the same binary attachment twice. Send each typed array as its own ' +
      'attachment (socket.io clients do): one attachment named many times would make the ' +
      'server copy its bytes once per name.',
  );
}

/**
 * A socket-form value (as received by the server) → JSON text in the text form.
 *
 * socket.io rebuilds a message's binary placeholders into its attachments, so a hand-written
 * message can point any number of placeholders at one attachment: each would be base64'd
 * again (a 1 MB attachment named 400 times is 530 MB of text). An honest client sends every
 * typed array as its own attachment, so a repeat is refused with TG_ERR_INVALID_TASK. Pass one
 * `seen` set to every call for one message (e.g. each task of a batch) to refuse repeats
 * across them too; without it, repeats are refused inside this value.
 */
export function socketFormToJson(value: unknown, seen?: Set<object>): string {
  // Plain JSON (most tasks) costs no set.
  if (!containsBytes(value)) return JSON.stringify(value ?? null);
  return JSON.stringify(toTextForm(value, seen ?? new Set()) ?? null);
}

/**
 * A parsed text-form value → the socket form (for the server to push on socket.io). Tags in
 * the socket form already (bytes the server kept as bytes) stay as they are.
 */
export function textToSocketForm(value: unknown): unknown {
  if (!containsBytes(value)) return value;
  return mapDeep(value, (item) => {
    const tagged = item as Record<string, unknown>;
    if (!(BYTES_TAG in tagged)) return item;
    // A copy, so mapDeep does not walk into (and copy apart) its typed array.
    if (typeof tagged.base64 !== 'string') return { ...tagged };
    return { [BYTES_TAG]: tagged[BYTES_TAG], data: unbase64(tagged.base64) };
  });
}

/** Text-form JSON → live (how a worker reads task inputs). */
export function parseWithBytes(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return text.includes(BYTES_TAG) ? fromSocketForm(value) : value;
}

/** Live → text-form JSON (how a worker writes results). */
export function stringifyWithBytes(value: unknown): string | undefined {
  return JSON.stringify(toTextForm(value));
}

export { jsonByteLength } from './json-size.js';

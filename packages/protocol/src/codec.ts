import { decodeBinaryFrame, type DecodedBytes } from './binary-frame.js';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { ErrorCode, TabgridError } from './errors.js';
import { MAX_DEPTH, checkDepth, checkJsonDepth } from './limits.js';

/** Validates one kind of message; returns it typed or throws a {@link TabgridError}. */
export type Decoder<T extends TSchema> = (value: unknown) => Static<T>;

function compile<T extends TSchema>(schema: T): (value: unknown) => boolean {
  try {
    const checker = TypeCompiler.Compile(schema);
    return (value) => checker.Check(value);
  } catch {
    // A page whose Content-Security-Policy forbids eval cannot compile checkers: interpret instead.
    return (value) => Value.Check(schema, value);
  }
}

export interface DecoderOptions {
  /**
   * Most levels of arrays and objects a message may nest (see ./limits.ts), checked without
   * recursion before anything else looks at it. Default {@link MAX_DEPTH}.
   */
  maxDepth?: number;
  /**
   * Where a text message's depth is checked. `'text'` (the default) scans the text before
   * `JSON.parse`. `'caller'` parses first — V8's `JSON.parse` is iterative, so no depth can
   * overflow it, and a schema check walks only what the schema describes, never into an
   * `Unknown` — and leaves the depth of the message's free-form values to the caller, which
   * checks them before anything else walks them. For busy frames (a worker's outcomes): it
   * saves a scan of every character.
   */
  textDepth?: 'text' | 'caller';
  /**
   * How a binary frame's typed arrays come out (see ./binary-frame.ts): `'text'` (the default)
   * as base64 tags, the value a text frame gives; `'socket'` as socket-form tags whose `data`
   * views the frame's bytes (the server keeps bytes as bytes, ./packed-value.ts; the worker
   * page makes typed arrays of them without base64).
   */
  bytes?: DecodedBytes;
}

/** Validates against `schema` only: callers have bounded the value's depth already. */
function createValidator<T extends TSchema>(schema: T, what: string): Decoder<T> {
  const check = compile(schema);
  const variants = discriminatedVariants(schema);
  return (value: unknown): Static<T> => {
    if (check(value)) return value;
    throw new TabgridError(
      ErrorCode.PROTOCOL,
      `Invalid ${what} (${explain(schema, variants, value)}).`,
    );
  };
}

/**
 * Builds the one function that validates received messages of `schema`. Every received
 * message goes through a decoder before use; nothing does `JSON.parse` and a cast. A value
 * nested deeper than `options.maxDepth` is refused before the schema (or anything recursive)
 * sees it.
 *
 * @example
 * const decode = createDecoder(WorkerToServer);
 * const msg = decode(JSON.parse(frame)); // throws TG_ERR_PROTOCOL naming the first problem
 */
export function createDecoder<T extends TSchema>(
  schema: T,
  what = 'message',
  { maxDepth = MAX_DEPTH }: DecoderOptions = {},
): Decoder<T> {
  const validate = createValidator(schema, what);
  return (value: unknown): Static<T> => {
    checkDepth(value, maxDepth, { what });
    return validate(value);
  };
}

/**
 * Parses a text frame as JSON and validates it. A frame that is not JSON at all is a
 * protocol error like any other; so is one nested deeper than `options.maxDepth`, found by
 * scanning the text before `JSON.parse`.
 */
export function createTextDecoder<T extends TSchema>(
  schema: T,
  what = 'message',
  { maxDepth = MAX_DEPTH, textDepth = 'text' }: DecoderOptions = {},
): Decoder<T> {
  const validate = createValidator(schema, what);
  return (text: unknown): Static<T> => {
    if (typeof text !== 'string') {
      throw new TabgridError(ErrorCode.PROTOCOL, `Invalid ${what}: expected a JSON text frame.`);
    }
    if (textDepth === 'text') checkJsonDepth(text, maxDepth, { what });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new TabgridError(ErrorCode.PROTOCOL, `Invalid ${what}: not JSON.`);
    }
    return validate(parsed);
  };
}

/** For a union of `{ type: '…' }` objects, each variant by its type, to explain errors precisely. */
function discriminatedVariants(schema: TSchema): Map<string, TSchema> | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!anyOf) return undefined;
  const variants = new Map<string, TSchema>();
  for (const variant of anyOf) {
    const type = (variant as { properties?: { type?: { const?: unknown } } }).properties?.type
      ?.const;
    if (typeof type !== 'string') return undefined;
    variants.set(type, variant);
  }
  return variants;
}

function explain(
  schema: TSchema,
  variants: Map<string, TSchema> | undefined,
  value: unknown,
): string {
  let target = schema;
  if (variants) {
    const type = (value as { type?: unknown } | null)?.type;
    const variant = typeof type === 'string' ? variants.get(type) : undefined;
    if (!variant) {
      return `unknown message type ${quoted(type)}; expected one of ${[...variants.keys()].join(', ')}`;
    }
    target = variant;
  }
  const first = Value.Errors(target, value).First();
  const error = first && deepest(first);
  return error ? `${error.path || '/'}: ${error.message}` : 'does not match its schema';
}

/** A received value, quoted for an error message: short (it may be megabytes long). */
function quoted(value: unknown): string {
  if (typeof value === 'string') {
    return value.length <= 40 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, 40))}...`;
  }
  if (value === undefined) return 'undefined';
  if (typeof value === 'object' && value !== null) {
    return Array.isArray(value) ? 'an array' : 'an object';
  }
  // null, a number or a boolean: short.
  return JSON.stringify(value);
}

/**
 * A union's own error says only "Expected union value": report the most specific inner one, from
 * the variant the value came closest to (fewest errors; a frame's `ok: true` outcome with a bad
 * `ms` is about `ms`, not about lacking the `ok: false` variant's `error`).
 */
function deepest(error: ValueError): ValueError {
  let best = error;
  let fewest = Infinity;
  for (const inner of error.errors) {
    const errors: ValueError[] = [];
    for (const each of inner) if (errors.push(each) >= MAX_COUNTED_ERRORS) break;
    const first = errors[0];
    if (!first) continue;
    const candidate = deepest(first);
    if (
      errors.length < fewest ||
      (errors.length === fewest && candidate.path.length > best.path.length)
    ) {
      best = candidate;
      fewest = errors.length;
    }
  }
  return best;
}
/** Errors counted per union variant when choosing which to report (the rest cost time only). */
const MAX_COUNTED_ERRORS = 8;

/**
 * Like {@link createTextDecoder}, and also takes binary frames (typed arrays ride in those, see
 * ./binary-frame.ts), decoded to the same value a text frame would give.
 */
export function createFrameDecoder<T extends TSchema>(
  schema: T,
  what = 'message',
  options: DecoderOptions = {},
): Decoder<T> {
  const fromText = createTextDecoder(schema, what, options);
  const validate = createValidator(schema, what);
  const maxDepth = options.maxDepth ?? MAX_DEPTH;
  const bytesAs = options.bytes ?? 'text';
  return (data: unknown): Static<T> =>
    data instanceof ArrayBuffer || ArrayBuffer.isView(data)
      ? // The binary decoder bounds the header's depth; decoding keeps it (a tag stays 1 level).
        validate(decodeBinaryFrame(data, maxDepth, bytesAs))
      : fromText(data);
}

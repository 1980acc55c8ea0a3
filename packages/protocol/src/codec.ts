import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { ErrorCode, TabgridError } from './errors.js';

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

/**
 * Builds the one function that validates received messages of `schema`. Every received
 * message goes through a decoder before use; nothing does `JSON.parse` and a cast.
 *
 * @example
 * const decode = createDecoder(WorkerToServer);
 * const msg = decode(JSON.parse(frame)); // throws TG_ERR_PROTOCOL with the first problem
 */
export function createDecoder<T extends TSchema>(schema: T, what = 'message'): Decoder<T> {
  const check = compile(schema);
  return (value: unknown): Static<T> => {
    if (check(value)) return value;
    const first = Value.Errors(schema, value).First();
    const where = first ? `${first.path || '/'}: ${first.message}` : 'does not match its schema';
    throw new TabgridError(ErrorCode.PROTOCOL, `Invalid ${what} (${where}).`);
  };
}

/**
 * Parses a text frame as JSON and validates it. A frame that is not JSON at all is a
 * protocol error like any other.
 */
export function createTextDecoder<T extends TSchema>(schema: T, what = 'message'): Decoder<T> {
  const decode = createDecoder(schema, what);
  return (text: unknown): Static<T> => {
    if (typeof text !== 'string') {
      throw new TabgridError(ErrorCode.PROTOCOL, `Invalid ${what}: expected a JSON text frame.`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new TabgridError(ErrorCode.PROTOCOL, `Invalid ${what}: not JSON.`);
    }
    return decode(parsed);
  };
}

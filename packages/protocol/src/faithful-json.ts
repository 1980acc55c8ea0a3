/**
 * Say, don't coerce: the values JSON cannot carry faithfully, told before anything is sent.
 *
 * `JSON.stringify` quietly turns `undefined` (as a property or an array element), `NaN`,
 * `±Infinity`, functions and symbols into `null` or nothing, `Map`, `Set` and class instances
 * into `{}` or their bare fields, and `Date` into a string; it throws a bare TypeError on a
 * BigInt or a circular value. A task, a job's `args` or a result holding one of those is
 * refused instead, with a sentence naming the path and what to send instead:
 *
 *   tasks[3].when is a Date: send when.toISOString()
 *
 * Typed arrays, ArrayBuffers and DataViews stay allowed: they travel as bytes (bytes.ts).
 * `values: 'lossy'` (a job option of the SDK, see {@link LOSSY_VALUES_DIRECTIVE}) keeps the old
 * conversion; BigInts, cycles and nesting past the depth limit are still told then, since
 * `JSON.stringify` cannot convert those at all.
 *
 * {@link faithfulJson} is self-contained (no imports, nothing of this module) so the job
 * runtime can ship it into the job thread as source text (packages/job-runtime/src/thread-source.ts),
 * where it checks results; the SDK checks tasks and args with {@link assertFaithful}.
 */
import { ErrorCode, TabgridError } from './errors.js';
import { MAX_VALUE_DEPTH } from './limits.js';

/** How values that JSON cannot carry faithfully are treated: refused (default), or converted. */
export type ValuesMode = 'strict' | 'lossy';

/**
 * The first statement of a program whose job converts values as `JSON.stringify` does (the
 * SDK's `values: 'lossy'` writes it). The program is the part of a job every thread gets, over
 * every path (grid, local runs, replay): the thread reads its results' mode there. A directive
 * prologue, like `"use strict"`: JavaScript ignores it. Programs sent over REST may start with
 * it too.
 */
export const LOSSY_VALUES_DIRECTIVE = '"tabgrid values: lossy";';

/** A place in a value that JSON cannot carry faithfully (built on failure only). */
interface Fault {
  /** What is there: "is a Date", "is NaN", "refers back to …". */
  what: string;
  /** What to send instead, given the name the user knows the value by. */
  hint: (name: string) => string;
  /** Keys from the faulty value up to the root (innermost first). */
  keys: Slots<string | number>;
  /** For a cycle: the depth of the ancestor it refers back to; else -1. */
  backTo: number;
  /** JSON.stringify converts it (lossy mode lets it through); false for BigInt, cycles, depth. */
  convertible: boolean;
  /** Nested deeper than the limit (the thread tells it as ResultTooDeep). */
  deep: boolean;
}

/**
 * A list on a null-prototype object: in the job thread, writing an index of an array the runtime
 * made would consult Array.prototype, where job code may have put a setter (and so got hold of
 * the runtime's array). Nothing is looked up on these.
 */
interface Slots<T> {
  length: number;
  [index: number]: T;
}

/**
 * The containers around a value, innermost first: one link per container that holds another
 * container, made when it first meets one (a flat object or array costs none). Its fields are
 * defined by the literal, so no write consults a prototype.
 */
interface Chain {
  object: object;
  up: Chain | null;
}

/** What {@link faithfulJson}'s `faultOf` finds: the sentence, and whether it is about depth. */
export interface FaithfulFault {
  message: string;
  deep: boolean;
}

/**
 * The checker. `maxDepth`: most levels of arrays and objects a value may nest
 * ({@link MAX_VALUE_DEPTH}). Call it once (the thread does so before job code runs: every
 * built-in it uses is read here, so job code patching a global later changes nothing).
 *
 * @example
 * const { unfaithful } = faithfulJson(100);
 * unfaithful({ when: new Date() }, 'tasks', 3, false); // 'tasks[3].when is a Date: send when.toISOString()'
 * unfaithful({ n: 1 }, 'result', -1, false);           // undefined
 */
export function faithfulJson(maxDepth: number) {
  const isArray = Array.isArray;
  const getPrototypeOf = Object.getPrototypeOf;
  const isView = ArrayBuffer.isView.bind(ArrayBuffer);
  const NativeArrayBuffer = ArrayBuffer;
  const ObjectProto = Object.prototype;
  const quote = JSON.stringify.bind(JSON);
  /* eslint-disable @typescript-eslint/unbound-method -- uncurried: called with a receiver */
  const call = Function.prototype.call;
  const charCodeAt = call.bind(String.prototype.charCodeAt) as (s: string, i: number) => number;
  const slice = call.bind(String.prototype.slice) as (s: string, a: number, b: number) => string;
  const hasOwn = call.bind(Object.prototype.hasOwnProperty) as (o: object, k: string) => boolean;
  /* eslint-enable @typescript-eslint/unbound-method */
  const maxKeyChars = 40;

  /** Prototypes of built-ins with a better hint than "a class instance" (exact match only). */
  const knownProtos: object[] = [];
  const knownCtors: string[] = [];
  const knownNames: string[] = [];
  const knownHints: Array<(name: string) => string> = [];
  const global = globalThis as unknown as Record<string, { prototype?: object } | undefined>;
  function known(ctor: string, what: string, hint: (name: string) => string): void {
    const proto = global[ctor]?.prototype;
    if (typeof proto !== 'object' || proto === null) return;
    knownProtos[knownProtos.length] = proto;
    knownCtors[knownCtors.length] = ctor;
    knownNames[knownNames.length] = what;
    knownHints[knownHints.length] = hint;
  }
  known('Date', 'a Date', (n) => 'send ' + n + '.toISOString()');
  known('Map', 'a Map', (n) => 'send Object.fromEntries(' + n + ') or [...' + n + ']');
  known('Set', 'a Set', (n) => 'send [...' + n + ']');
  known('RegExp', 'a RegExp', (n) => 'send ' + n + '.source (and ' + n + '.flags)');
  known('Promise', 'a Promise', () => 'await it, and send what it resolves to');
  known('Error', 'an Error', (n) => 'send { message: ' + n + '.message, stack: ' + n + '.stack }');
  known('WeakMap', 'a WeakMap', () => 'send its data as a plain object or array');
  known('WeakSet', 'a WeakSet', () => 'send its data as an array');
  known('Number', 'a Number object', (n) => 'send ' + n + '.valueOf()');
  known('String', 'a String object', (n) => 'send ' + n + '.valueOf()');
  known('Boolean', 'a Boolean object', (n) => 'send ' + n + '.valueOf()');
  known(
    'SharedArrayBuffer',
    'a SharedArrayBuffer',
    (n) => 'send new Uint8Array(' + n + ').slice()',
  );

  const nanHint = (): string => 'send null, or a string';
  const infinityHint = (): string => 'send null, or a string such as "Infinity"';
  const undefinedHint = (): string => 'send null';
  const undefinedKeyHint = (): string => 'leave the key out, or send null';
  const holeHint = (): string => 'fill it (with null, say)';
  const functionHint = (): string => 'only data travels: define functions in the program';
  const symbolHint = (): string => 'send a string';
  const bigintHint = (n: string): string =>
    'send ' + n + '.toString(), or Number(' + n + ') when it is below 2^53';
  const cycleHint = (): string => 'send a copy without the cycle';
  const deepHint = (): string =>
    'flatten it, or send it as a string (the limit is ' + maxDepth + ' levels)';

  function fault(
    what: string,
    hint: (name: string) => string,
    convertible: boolean,
    backTo = -1,
  ): Fault {
    // Every field written later is here: an assignment to a missing one would consult
    // Object.prototype (a job's setter there would get the fault, in the thread).
    return { what, hint, keys: slots<string | number>(), backTo, convertible, deep: false };
  }

  function slots<T>(): Slots<T> {
    return { __proto__: null, length: 0 } as unknown as Slots<T>;
  }

  function addKey(found: Fault, key: string | number): void {
    found.keys[found.keys.length] = key;
    found.keys.length++;
  }

  /** "a Point (a class instance)" for an object with a prototype of its own. */
  function instanceFault(proto: object): Fault {
    for (let i = 0; i < knownProtos.length; i++) {
      if (knownProtos[i] === proto) return fault('is ' + knownNames[i], knownHints[i]!, true);
    }
    let name = '';
    try {
      const ctor = (proto as { constructor?: unknown }).constructor;
      const ctorName = typeof ctor === 'function' ? (ctor as { name?: unknown }).name : undefined;
      if (typeof ctorName === 'string') name = cutKey(ctorName);
    } catch {
      // A throwing getter: the generic words below do.
    }
    // A built-in of another realm (a vm context, an iframe): told by its constructor's name.
    for (let i = 0; i < knownCtors.length; i++) {
      if (knownCtors[i] === name) return fault('is ' + knownNames[i], knownHints[i]!, true);
    }
    return fault(
      'is ' + (name === '' ? 'an object with a prototype' : 'a ' + name) + ' (a class instance)',
      (n) => 'send a plain object (e.g. { ...' + n + ' }) and rebuild it where it is used',
      true,
    );
  }

  /** The fault at `value`, if any; `up` holds the `depth` containers around it. */
  function check(
    value: unknown,
    depth: number,
    up: Chain | null,
    lossy: boolean,
  ): Fault | undefined {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return undefined;
      case 'number':
        // x - x is 0 for every finite number, NaN for NaN and ±Infinity.
        if (value - value === 0 || lossy) return undefined;
        return value !== value
          ? fault('is NaN', nanHint, true)
          : fault(value > 0 ? 'is Infinity' : 'is -Infinity', infinityHint, true);
      case 'bigint':
        return fault('is a BigInt', bigintHint, false);
      case 'undefined':
        return lossy ? undefined : fault('is undefined', undefinedHint, true);
      case 'function':
        return lossy ? undefined : fault('is a function', functionHint, true);
      case 'symbol':
        return lossy ? undefined : fault('is a symbol', symbolHint, true);
      default:
        break;
    }
    if (value === null) return undefined;
    const object = value as object;
    let at = depth - 1;
    for (let link = up; link !== null; link = link.up, at--) {
      if (link.object === object) return fault('', cycleHint, false, at);
    }
    if (depth >= maxDepth) {
      const deep = fault(
        'nests deeper than ' + maxDepth + ' levels of arrays and objects',
        deepHint,
        false,
      );
      deep.deep = true;
      return deep;
    }
    let self: Chain | null = null;
    if (isArray(object)) {
      const list = object as unknown[];
      const length = list.length;
      for (let i = 0; i < length; i++) {
        const item = list[i];
        // Scalars inline: most arrays hold numbers or strings, and a call each adds up.
        if (typeof item === 'number' ? item - item === 0 : plainScalar(item)) continue;
        if (typeof item === 'object') self ??= { object, up };
        const found = check(item, depth + 1, self, lossy);
        if (found !== undefined) {
          if (item === undefined && !(i in list)) {
            found.what = 'is an array hole';
            found.hint = holeHint;
          }
          addKey(found, i);
          return found;
        }
      }
      return undefined;
    }
    const proto: unknown = getPrototypeOf(object);
    // Plain: Object.prototype, null, or another realm's Object.prototype (its own is null).
    if (proto !== ObjectProto && proto !== null && getPrototypeOf(proto) !== null) {
      if (isView(object) || object instanceof NativeArrayBuffer) return undefined;
      if (!lossy) return instanceFault(proto as object);
      // What JSON.stringify would send instead is toJSON's business: not looked into.
      if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return undefined;
    }
    const record = object as Record<string, unknown>;
    // for-in, not Object.keys: no array per object (twice as fast on nested values). It also
    // walks enumerable keys a polluted Object.prototype adds, which JSON leaves out: a fault
    // there is not told (checked on faults only, so the plain path pays nothing).
    for (const key in record) {
      const item = record[key];
      if (typeof item === 'number' ? item - item === 0 : plainScalar(item)) continue;
      if (typeof item === 'object') self ??= { object, up };
      const found = check(item, depth + 1, self, lossy);
      if (found !== undefined && hasOwn(record, key)) {
        if (item === undefined && found.keys.length === 0) found.hint = undefinedKeyHint;
        addKey(found, key);
        return found;
      }
    }
    return undefined;
  }

  /** A string, a boolean or null: nothing to check. */
  function plainScalar(item: unknown): boolean {
    return typeof item === 'string' || typeof item === 'boolean' || item === null;
  }

  function cutKey(key: string): string {
    return key.length <= maxKeyChars ? key : slice(key, 0, maxKeyChars) + '\u2026';
  }

  function isIdentifier(key: string): boolean {
    if (key.length === 0 || key.length > maxKeyChars) return false;
    for (let i = 0; i < key.length; i++) {
      const c = charCodeAt(key, i);
      const letter =
        (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x24 || c === 0x5f;
      if (!letter && !(i > 0 && c >= 0x30 && c <= 0x39)) return false;
    }
    return true;
  }

  function segment(key: string | number): string {
    if (typeof key === 'number') return '[' + key + ']';
    return isIdentifier(key) ? '.' + key : '[' + quote(cutKey(key)) + ']';
  }

  /** "tasks[3].when is a Date: send when.toISOString()". */
  function tell(found: Fault, base: string): string {
    const keys = found.keys;
    let path = base;
    let backPath = base;
    for (let i = keys.length - 1, depth = 1; i >= 0; i--, depth++) {
      path = path + segment(keys[i] as string | number);
      if (depth === found.backTo) backPath = path;
    }
    const last = keys.length > 0 ? keys[0] : undefined;
    const name = typeof last === 'string' && isIdentifier(last) ? last : path;
    const what =
      found.backTo >= 0 ? 'refers back to ' + backPath + ' (a circular value)' : found.what;
    return path + ' ' + what + ': ' + found.hint(name);
  }

  /**
   * Why JSON cannot carry `value` faithfully, as a sentence naming its path (`root`, then
   * `[index]` when index ≥ 0, then the keys under it) and what to send instead; undefined
   * when it can. `lossy`: tell only what JSON.stringify cannot convert at all (BigInt, a cycle,
   * nesting deeper than `maxDepth`). One walk, stopping at the first fault; scalars cost a few
   * comparisons.
   */
  function unfaithful(
    value: unknown,
    root: string,
    index: number,
    lossy: boolean,
  ): string | undefined {
    return faultOf(value, root, index, lossy)?.message;
  }

  /** {@link unfaithful}'s sentence, and whether it is about depth. */
  function faultOf(
    value: unknown,
    root: string,
    index: number,
    lossy: boolean,
  ): FaithfulFault | undefined {
    if (typeof value === 'string' || typeof value === 'boolean' || value === null) return undefined;
    if (typeof value === 'number' && (value - value === 0 || lossy)) return undefined;
    const found = check(value, 0, null, lossy);
    if (found === undefined) return undefined;
    const message = tell(found, index < 0 ? root : root + '[' + index + ']');
    return { message, deep: found.deep };
  }

  /** Whether the fault `unfaithful` told would pass in lossy mode (so saying so helps). */
  function convertible(value: unknown): boolean {
    return check(value, 0, null, true) === undefined;
  }

  return { unfaithful, faultOf, convertible };
}

const checker = faithfulJson(MAX_VALUE_DEPTH);

/**
 * Throws a {@link TabgridError} (`TG_ERR_UNFAITHFUL_VALUE`) when JSON cannot carry `value`
 * faithfully, naming the path and what to send instead; `index` ≥ 0 adds `[index]` to `root`.
 * In strict mode the message also names the `values: 'lossy'` escape where it would help.
 *
 * @example
 * assertFaithful({ when: new Date(0) }, 'tasks', 3);
 * // TabgridError: tasks[3].when is a Date: send when.toISOString() (…)
 */
export function assertFaithful(
  value: unknown,
  root: string,
  index = -1,
  mode: ValuesMode = 'strict',
): void {
  const lossy = mode === 'lossy';
  const why = checker.unfaithful(value, root, index, lossy);
  if (why === undefined) return;
  const escape =
    !lossy && checker.convertible(value)
      ? ". To convert such values as JSON.stringify does instead, create the job with values: 'lossy'"
      : '';
  throw new TabgridError(ErrorCode.UNFAITHFUL_VALUE, why + escape + '.');
}

/**
 * Part of the thread runtime shipped as source text (see thread-source.ts): self-contained, it
 * may use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { Protections } from './protections.js';

/**
 * Job code may patch any global or prototype of this realm. Everything the runtime calls after
 * job code has started is taken here, before any job code runs: natives bound to their
 * receiver, prototype methods uncurried (`call` bound to them), so no lookup reaches a patched
 * value and no job-defined function is ever called with a runtime object as `this` or as an
 * argument. The other parts destructure what they need from the result before job code runs.
 */
export function captureNatives(protections: Protections) {
  /* eslint-disable @typescript-eslint/unbound-method -- taking prototype methods off their
     objects is the point: each one is called with an explicit receiver, through `call`. */
  const FunctionCall = Function.prototype.call;
  const uncurry = <A extends unknown[], R>(
    method: (...args: A) => R,
  ): ((self: unknown, ...args: A) => R) => FunctionCall.bind(method);
  const NativeUint8Array = Uint8Array;
  // A message's `data` is read through the original getter: job code may redefine it.
  const dataGetter = (
    typeof MessageEvent === 'function'
      ? Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data')?.get
      : undefined
  ) as (() => unknown) | undefined;
  // Native base64 of typed arrays (Chromium 140+): memory speed, where btoa/atob need a string
  // of one char per byte, copied byte by byte.
  const WebBase64 = NativeUint8Array as unknown as {
    fromBase64?: (text: string) => Uint8Array;
    prototype: { toBase64?: () => string };
  };
  const natives = {
    stringify: JSON.stringify.bind(JSON),
    parse: JSON.parse.bind(JSON) as (
      text: string,
      reviver?: (key: string, value: unknown) => unknown,
    ) => unknown,
    now: performance.now.bind(performance),
    epochNow: Date.now,
    round: Math.round,
    isView: ArrayBuffer.isView.bind(ArrayBuffer),
    defineProperty: Object.defineProperty,
    getOwnPropertyDescriptor: Object.getOwnPropertyDescriptor,
    getPrototypeOf: Object.getPrototypeOf as (value: object) => object | null,
    freeze: Object.freeze,
    hasOwn: uncurry(Object.prototype.hasOwnProperty) as (self: object, name: string) => boolean,
    includes: uncurry(String.prototype.includes) as (self: string, part: string) => boolean,
    charCodeAt: uncurry(String.prototype.charCodeAt) as (self: string, at: number) => number,
    indexOf: uncurry(String.prototype.indexOf) as (
      self: string,
      part: string,
      from: number,
    ) => number,
    slice: uncurry(String.prototype.slice) as (self: string, from: number, to: number) => string,
    fromCharCode: String.fromCharCode,
    toBase64: btoa,
    fromBase64: atob,
    bytesToBase64:
      typeof WebBase64.prototype.toBase64 === 'function'
        ? (uncurry(WebBase64.prototype.toBase64) as (self: Uint8Array) => string)
        : undefined,
    bytesFromBase64:
      typeof WebBase64.fromBase64 === 'function'
        ? (WebBase64.fromBase64.bind(NativeUint8Array) as (text: string) => Uint8Array<ArrayBuffer>)
        : undefined,
    // Indirect eval (called by another name): global scope, never the runtime's locals. Taken
    // here so that a program cannot replace it for the next load.
    evaluate: eval as (source: string) => unknown,
    NativePromise: Promise,
    NativeError: Error,
    NativeTypeError: TypeError,
    NativeRangeError: RangeError,
    NativeArrayBuffer: ArrayBuffer,
    NativeUint8Array,
    NativeMessageChannel: MessageChannel,
    /** A typed array's kind ('Float32Array', …), undefined for anything else, in any realm. */
    viewKind: uncurry<[], string | undefined>(
      Object.getOwnPropertyDescriptor(
        Object.getPrototypeOf(Uint8Array.prototype),
        Symbol.toStringTag,
      )?.get as () => string | undefined,
    ),
    /** A copy of bytes in a fresh buffer of their own (what goes to the page, transferred). */
    copyBytes: uncurry(NativeUint8Array.prototype.slice) as (
      self: Uint8Array,
    ) => Uint8Array<ArrayBuffer>,
    /** How arrays iterate now: a transfer list is read through these (see result-json.ts). */
    arrayIterator: Array.prototype[Symbol.iterator],
    arrayIteratorNext: (Object.getPrototypeOf([][Symbol.iterator]()) as { next: unknown }).next,
    ArrayPrototype: Array.prototype,
    subarray: uncurry(NativeUint8Array.prototype.subarray) as (
      self: Uint8Array,
      begin: number,
      end: number,
    ) => Uint8Array,
    eventData: (dataGetter && protections.captures
      ? uncurry(dataGetter)
      : (event: MessageEvent) => event.data as unknown) as (event: MessageEvent) => unknown,
  };
  /* eslint-enable @typescript-eslint/unbound-method */
  return natives;
}

export type CapturedNatives = ReturnType<typeof captureNatives>;

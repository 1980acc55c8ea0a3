/**
 * The job thread's runtime: a classic Web Worker started from a `data:` URL (opaque origin, the
 * page's no-network Content-Security-Policy; see thread-host.ts). {@link sandboxWorkerMain} is
 * shipped as source text (Function.prototype.toString), so it must be self-contained: it may
 * use globals and its own locals, never a value imported here (type-only imports are erased).
 *
 * Job code shares this realm, so nothing of the runtime may be reachable from it (see the
 * README's sandbox section, and e2e/tests/sandbox-escape.spec.ts for the probes):
 * - the shipped script and job code are strict: V8 answers `Run.caller` with null for a strict
 *   caller, `arguments.callee` throws, and call sites give no function or `this` for a strict
 *   frame or any frame below it;
 * - `Error.prepareStackTrace` is fixed to undefined, so job code never gets call-site objects;
 * - the port, its handler, the inbox and every function the runtime calls after job code has
 *   started are captured before it runs (bound natives, uncurried prototype methods), so a
 *   patched global or prototype never sees a runtime object; `Promise.prototype` is frozen
 *   because `await` of the runtime's own promises reads its `constructor`.
 */
import { OUTCOME_LIMITS, type OutcomeLimits } from './outcome-limits.js';
import type { PageToThread, ThreadTask, ThreadToPage } from './sandbox-protocol.js';

/** Flush results to the page after a task once this long has passed since the last flush. */
export const THREAD_FLUSH_INTERVAL_MS = 10;

/**
 * The runtime's protections, each one switchable only so that the escape probes can show they
 * catch the hole when it is open (`weakenedThreadSource` in sandbox-test-hooks.ts, imported by
 * tests only). The page ships {@link SANDBOX_WORKER_SOURCE}, a constant with every one on:
 * nothing the page reads (URL, storage, messages) can turn one off.
 */
export interface Protections {
  /** The shipped script and job code run in strict mode. */
  strict: boolean;
  /** `Error.prepareStackTrace` fixed to undefined and `Error`'s stack statics unwritable. */
  stackApi: boolean;
  /** `Promise.prototype` frozen (the runtime's `await`s read its `constructor`). */
  intrinsics: boolean;
  /** Network, storage, worker and DOM globals replaced by throwers up the prototype chain. */
  throwers: boolean;
  /**
   * Page messages read through the `MessageEvent.prototype.data` getter captured before job
   * code runs (off: read `event.data`, which job code can redefine to see and forge them).
   */
  captures: boolean;
}

export const ALL_PROTECTIONS: Readonly<Protections> = Object.freeze({
  strict: true,
  stackApi: true,
  intrinsics: true,
  throwers: true,
  captures: true,
});

interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
}

/** A queued page message: a null-prototype node, so no property write consults a prototype. */
interface InboxNode {
  message: PageToThread;
  next: InboxNode | null;
}

export function sandboxWorkerMain(
  flushIntervalMs: number,
  protections: Protections,
  limits: OutcomeLimits,
): void {
  const scope = globalThis as unknown as WorkerScope;
  // ---- Captured before any job code runs ------------------------------------------------
  // Job code may patch any global or prototype of this realm. Everything the runtime calls
  // after job code has started is taken here: natives bound to their receiver, prototype
  // methods uncurried (`call` bound to them), so no lookup reaches a patched value and no
  // job-defined function is ever called with a runtime object as `this` or as an argument.
  /* eslint-disable @typescript-eslint/unbound-method -- taking prototype methods off their
     objects is the point: each one is called with an explicit receiver, through `call`. */
  const FunctionCall = Function.prototype.call;
  const uncurry = <A extends unknown[], R>(
    method: (...args: A) => R,
  ): ((self: unknown, ...args: A) => R) => FunctionCall.bind(method);
  const stringify = JSON.stringify.bind(JSON);
  const parse = JSON.parse.bind(JSON) as (
    text: string,
    reviver?: (key: string, value: unknown) => unknown,
  ) => unknown;
  const now = performance.now.bind(performance);
  const round = Math.round;
  const isView = ArrayBuffer.isView.bind(ArrayBuffer);
  const defineProperty = Object.defineProperty;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const getPrototypeOf = Object.getPrototypeOf as (value: object) => object | null;
  const freeze = Object.freeze;
  const hasOwn = uncurry(Object.prototype.hasOwnProperty) as (
    self: object,
    name: string,
  ) => boolean;
  const includes = uncurry(String.prototype.includes) as (self: string, part: string) => boolean;
  const charCodeAt = uncurry(String.prototype.charCodeAt) as (self: string, at: number) => number;
  const indexOf = uncurry(String.prototype.indexOf) as (
    self: string,
    part: string,
    from: number,
  ) => number;
  const slice = uncurry(String.prototype.slice) as (
    self: string,
    from: number,
    to: number,
  ) => string;
  const fromCharCode = String.fromCharCode;
  const toBase64 = btoa;
  const fromBase64 = atob;
  const NativePromise = Promise;
  const NativeError = Error;
  const NativeTypeError = TypeError;
  const NativeArrayBuffer = ArrayBuffer;
  const NativeUint8Array = Uint8Array;
  const NativeMessageChannel = MessageChannel;
  const subarray = uncurry(NativeUint8Array.prototype.subarray) as (
    self: Uint8Array,
    begin: number,
    end: number,
  ) => Uint8Array;
  // A message's `data` is read through the original getter: job code may redefine it.
  const dataGetter = (
    typeof MessageEvent === 'function'
      ? getOwnPropertyDescriptor(MessageEvent.prototype, 'data')?.get
      : undefined
  ) as (() => unknown) | undefined;
  const eventData: (event: MessageEvent) => unknown =
    dataGetter && protections.captures ? uncurry(dataGetter) : (event) => event.data as unknown;
  /* eslint-enable @typescript-eslint/unbound-method */

  if (protections.stackApi) {
    // Call-site objects (getFunction, getThis) are V8's way to walk a stack as values; job code
    // only ever gets stack *strings*. captureStackTrace stays usable (error libraries call it).
    defineProperty(NativeError, 'prepareStackTrace', {
      value: undefined,
      writable: false,
      configurable: false,
    });
    const capture = getOwnPropertyDescriptor(NativeError, 'captureStackTrace');
    if (capture)
      defineProperty(NativeError, 'captureStackTrace', { writable: false, configurable: false });
  }
  if (protections.intrinsics) {
    freeze(NativePromise.prototype);
  }

  /** Replaces `name` on the global and everywhere up its prototype chain, unconfigurably. */
  function forbid(name: string, message: string, asGetter: boolean): void {
    const thrower = function (): never {
      throw new NativeError('TG sandbox: ' + message);
    };
    let target: object | null = globalThis;
    while (target) {
      if (hasOwn(target, name) || target === globalThis) {
        try {
          defineProperty(
            target,
            name,
            asGetter
              ? { get: thrower, set: thrower, configurable: false }
              : { value: thrower, writable: false, configurable: false },
          );
        } catch {
          // Already unconfigurable: the CSP still blocks it; nothing more to do here.
        }
      }
      target = getPrototypeOf(target);
    }
  }

  if (protections.throwers) {
    // Defence in depth: the inherited CSP already blocks the network; these make it fail loudly.
    const network = [
      'fetch',
      'XMLHttpRequest',
      'WebSocket',
      'WebSocketStream',
      'EventSource',
      'WebTransport',
      'importScripts',
      'BroadcastChannel',
      'Worker',
      'SharedWorker',
    ];
    for (const name of network) {
      forbid(
        name,
        name + ' is not available to job code (tasks run without network access)',
        false,
      );
    }
    for (const name of ['indexedDB', 'caches']) {
      forbid(name, name + ' is not available to job code (tasks run without storage)', true);
    }
    for (const name of ['document', 'window']) {
      forbid(name, 'job code runs in a Web Worker: there is no DOM (' + name + ')', true);
    }
  }

  type Run = (input: unknown, args: unknown) => unknown;
  let run: Run | undefined;
  let loadError: unknown;
  let jobArgs: unknown;
  let outcomePrefix = '';
  let post: ((message: ThreadToPage) => void) | undefined;
  let inboxHead: InboxNode | null = null;
  let inboxTail: InboxNode | null = null;
  let draining = false;
  /** The chunk the page asked to stop early (another thread is idle and will take the rest). */
  let stopChunkId = -1;
  // A macrotask break on a private channel, so a `stop` from the page can be delivered in the
  // middle of a long chunk. Both ends stay in this closure, out of job code's reach.
  const tick = new NativeMessageChannel();
  const tickPost = tick.port2.postMessage.bind(tick.port2) as (message: null) => void;
  let resume: (() => void) | undefined;
  tick.port1.onmessage = () => resume?.();
  const yieldToEvents = (): Promise<void> =>
    new NativePromise<void>((resolve) => {
      resume = resolve;
      tickPost(null);
    });

  function describe(error: unknown): { name: string; message: string; stack: string } {
    try {
      if (typeof error === 'object' && error !== null) {
        const { name, message, stack } = error as {
          name?: unknown;
          message?: unknown;
          stack?: unknown;
        };
        if (typeof message === 'string') {
          return {
            name: typeof name === 'string' ? name : 'Error',
            message,
            stack: typeof stack === 'string' ? stack : '',
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

  function isThenable(value: unknown): value is PromiseLike<unknown> {
    return (
      (typeof value === 'object' || typeof value === 'function') &&
      value !== null &&
      typeof (value as { then?: unknown }).then === 'function'
    );
  }

  // Typed arrays and ArrayBuffers travel in the protocol's text form (@tabgrid/protocol/bytes,
  // which this self-contained source cannot import): { "$tabgrid.bytes": kind, base64 }.
  const BYTES_TAG = '$tabgrid.bytes';
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

  /** 'bytes' if `value` holds a typed array or ArrayBuffer, 'tag' if it misuses the tag key. */
  function scan(value: unknown): 'bytes' | 'tag' | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    if (isBinary(value)) return 'bytes';
    let found: 'bytes' | 'tag' | undefined;
    for (const key in value) {
      if (key === BYTES_TAG) return 'tag';
      found ??= scan((value as Record<string, unknown>)[key]);
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
    const raw = fromBase64(tagged.base64);
    const bytes = new NativeUint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = charCodeAt(raw, i);
    const View = views[kind];
    return View ? new View(bytes.buffer) : bytes.buffer;
  }

  /** JSON text of a result; typed arrays in the text form. */
  function toJson(value: unknown): string {
    const found = scan(value);
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
              return isBinary(original) ? tagBytes(original) : current;
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

  // ---- Outcome bounds ------------------------------------------------------------------
  // The server closes the socket on a frame breaking WORKER_LIMITS, losing every task of the
  // batch: a result or error over the limits becomes (or is cut to) something it accepts.
  const maxResultBytes = limits.maxResultBytes;
  const maxValueDepth = limits.maxValueDepth;

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

  type Failure = { name: string; message: string; stack: string };

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

  /** Why the server would refuse a result's JSON text, as the task's error; else undefined. */
  function refusal(json: string): Failure | undefined {
    // Cheap first: a text under a third of the limit fits whatever its characters, and a text
    // of fewer than 2 × (max + 1) characters cannot hold max + 1 pairs of brackets.
    if (json.length * 3 > maxResultBytes) {
      const bytes = utf8Length(json);
      if (bytes > maxResultBytes) {
        return {
          name: 'ResultTooLarge',
          message:
            'Run returned ' +
            megabytes(bytes) +
            ' of JSON; a result may be at most ' +
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

  // Strict job code: `arguments.callee` and `.caller` throw inside it, and it cannot turn a
  // runtime frame sloppy. Sloppy-only programs (`with`, octal literals, implicit globals,
  // `this` as the global in Run) fail to load or throw, with the parser's or engine's message.
  const jobPrologue = protections.strict ? '"use strict";\n' : '';

  function load(jobId: string, program: string, args: unknown): void {
    // `args` arrived with typed arrays in the text form, like task inputs.
    const argsJson = stringify(args) ?? 'null';
    jobArgs = includes(argsJson, BYTES_TAG) ? parse(argsJson, reviveBytes) : args;
    outcomePrefix = '{"jobId":' + stringify(jobId) + ',"index":';
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- compiling the job's program is this thread's purpose; its opaque origin and the page's CSP contain it
      const factory = new Function(
        'args',
        jobPrologue + program + '\n;return typeof Run === "function" ? Run : undefined;',
      ) as (args: unknown) => Run | undefined;
      run = factory(args);
      if (run === undefined) {
        loadError = new NativeTypeError('the program must define a function Run(input, args)');
      }
    } catch (error) {
      loadError = error;
    }
  }

  function failedText(index: number, ms: number, error: Failure): string {
    return (
      outcomePrefix +
      index +
      ',"ms":' +
      ms +
      ',"ok":false,"error":' +
      stringify(bounded(error)) +
      '}'
    );
  }

  async function runChunk(chunkId: number, json: string, flushEach: boolean): Promise<void> {
    const tasks = (
      includes(json, BYTES_TAG) ? parse(json, reviveBytes) : parse(json)
    ) as ThreadTask[];
    // Outcome texts joined by commas as they come: a plain string, which job code cannot
    // reach or patch the way it could patch Array.prototype.push or join.
    let outcomes = '';
    let count = 0;
    let failures = 0;
    let busyMs = 0;
    let lastFlush = now();
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i] as ThreadTask;
      const started = now();
      let text: string;
      try {
        if (run === undefined) throw loadError;
        const result = run(task.input, jobArgs);
        // Sync results skip `await`: a microtask per tiny task would cost real throughput.
        const value = isThenable(result) ? await result : result;
        const ms = round((now() - started) * 1000) / 1000;
        busyMs += ms;
        const json = toJson(value);
        const refused = refusal(json);
        if (refused === undefined) {
          text = outcomePrefix + task.index + ',"ms":' + ms + ',"ok":true,"value":' + json + '}';
        } else {
          failures++;
          text = failedText(task.index, ms, refused);
        }
      } catch (error) {
        const ms = round((now() - started) * 1000) / 1000;
        busyMs += ms;
        failures++;
        text = failedText(task.index, ms, describe(error));
      }
      outcomes = count === 0 ? text : outcomes + ',' + text;
      count++;
      const at = now();
      // A batch as large as a result may be goes at once: the page sends big ones a frame each,
      // and big results gathered into one string could outgrow what a string may hold.
      if (
        (flushEach || at - lastFlush >= flushIntervalMs || outcomes.length >= maxResultBytes) &&
        i < tasks.length - 1
      ) {
        post?.({ type: 'results', chunkId, outcomes, count, failures, ms: busyMs, done: false });
        outcomes = '';
        count = 0;
        failures = 0;
        busyMs = 0;
        // Only long chunks get here (a flush interval has passed): the break costs little.
        await yieldToEvents();
        lastFlush = now();
        if (stopChunkId === chunkId) break;
      }
    }
    post?.({ type: 'results', chunkId, outcomes, count, failures, ms: busyMs, done: true });
  }

  async function drain(): Promise<void> {
    draining = true;
    while (inboxHead !== null) {
      const message = inboxHead.message;
      inboxHead = inboxHead.next;
      if (inboxHead === null) inboxTail = null;
      if (message.type === 'load') {
        load(message.jobId, message.program, message.args);
        post?.({ type: 'loaded' });
      } else if (message.type === 'run') {
        await runChunk(message.chunkId, message.tasks, message.flushEach);
      }
    }
    draining = false;
  }

  // The page's first (and only) message to the global hands over our port to the page. The
  // port stays in this closure and the global handler is removed: job code reaches neither.
  scope.onmessage = (event: MessageEvent) => {
    const port = event.ports[0];
    scope.onmessage = null;
    if (!port) return;
    const send = port.postMessage.bind(port) as (message: ThreadToPage) => void;
    post = send;
    port.onmessage = (inner: MessageEvent) => {
      const message = eventData(inner) as PageToThread;
      if (message.type === 'stop') {
        stopChunkId = message.chunkId;
        return;
      }
      const node = { __proto__: null, message, next: null } as unknown as InboxNode;
      if (inboxTail === null) inboxHead = node;
      else inboxTail.next = node;
      inboxTail = node;
      if (!draining) void drain();
    };
    send({ type: 'ready' });
  };
}

/**
 * The thread's script for these protections (tests only ever pass anything but all of them) and
 * outcome limits (tests pass smaller ones, to probe them without 16 MB values).
 */
export function threadSource(
  protections: Readonly<Protections> = ALL_PROTECTIONS,
  limits: Readonly<OutcomeLimits> = OUTCOME_LIMITS,
): string {
  const directive = protections.strict ? '"use strict";\n' : '';
  return `${directive}(${sandboxWorkerMain.toString()})(${THREAD_FLUSH_INTERVAL_MS}, ${JSON.stringify(protections)}, ${JSON.stringify(limits)});`;
}

/** The thread's source, as the page starts it (thread-host.ts): every protection on. */
export const SANDBOX_WORKER_SOURCE = threadSource();

/**
 * The job thread's runtime: a classic Web Worker started from a `data:` URL (opaque origin, the
 * page's no-network Content-Security-Policy; see thread-host.ts). {@link sandboxWorkerMain} is
 * shipped as source text (Function.prototype.toString), so it must be self-contained: it may
 * use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { PageToThread, ThreadTask, ThreadToPage } from './sandbox-protocol';

/** Flush results to the page after a task once this long has passed since the last flush. */
export const THREAD_FLUSH_INTERVAL_MS = 10;

interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
}

export function sandboxWorkerMain(flushIntervalMs: number): void {
  const scope = globalThis as unknown as WorkerScope;
  // Captured before any job code runs: a job may patch globals in its own realm, but not these.
  const stringify = JSON.stringify.bind(JSON);
  const parse = JSON.parse.bind(JSON) as (
    text: string,
    reviver?: (key: string, value: unknown) => unknown,
  ) => unknown;
  const now = performance.now.bind(performance);
  const round = Math.round;
  const isView = ArrayBuffer.isView.bind(ArrayBuffer);
  const defineProperty = Object.defineProperty;
  const getPrototypeOf = Object.getPrototypeOf as (value: object) => object | null;
  const hasOwn = (target: object, name: string): boolean =>
    Object.prototype.hasOwnProperty.call(target, name);

  /** Replaces `name` on the global and everywhere up its prototype chain, unconfigurably. */
  function forbid(name: string, message: string, asGetter: boolean): void {
    const thrower = function (): never {
      throw new Error('TG sandbox: ' + message);
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
    forbid(name, name + ' is not available to job code (tasks run without network access)', false);
  }
  for (const name of ['indexedDB', 'caches']) {
    forbid(name, name + ' is not available to job code (tasks run without storage)', true);
  }
  for (const name of ['document', 'window']) {
    forbid(name, 'job code runs in a Web Worker: there is no DOM (' + name + ')', true);
  }
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav && 'sendBeacon' in nav) {
    defineProperty(nav, 'sendBeacon', {
      value: function (): never {
        throw new Error('TG sandbox: navigator.sendBeacon is not available to job code');
      },
    });
  }

  type Run = (input: unknown, args: unknown) => unknown;
  let run: Run | undefined;
  let loadError: unknown;
  let jobArgs: unknown;
  let outcomePrefix = '';
  let post: ((message: ThreadToPage) => void) | undefined;
  const inbox: PageToThread[] = [];
  let draining = false;
  /** The chunk the page asked to stop early (another thread is idle and will take the rest). */
  let stopChunkId = -1;
  // A macrotask break on a private channel, so a `stop` from the page can be delivered in the
  // middle of a long chunk. Both ends stay in this closure, out of job code's reach.
  const NativePromise = Promise;
  const tick = new MessageChannel();
  let resume: (() => void) | undefined;
  tick.port1.onmessage = () => resume?.();
  const yieldToEvents = (): Promise<void> =>
    new NativePromise<void>((resolve) => {
      resume = resolve;
      tick.port2.postMessage(null);
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
  const views = new Map<string, new (buffer: ArrayBuffer) => ArrayBufferView>();
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
    if (typeof View === 'function')
      views.set(kind, View as new (b: ArrayBuffer) => ArrayBufferView);
  }
  const toBase64 = btoa;
  const fromBase64 = atob;
  const fromCharCode = String.fromCharCode;

  function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
    return value instanceof ArrayBuffer || isView(value);
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

  function tagBytes(value: ArrayBuffer | ArrayBufferView): object {
    let kind = 'ArrayBuffer';
    for (const [name, View] of views) if (value instanceof View) kind = name;
    const bytes =
      value instanceof ArrayBuffer
        ? new Uint8Array(value)
        : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += fromCharCode(...bytes.subarray(i, i + 0x8000));
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
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    const View = views.get(kind);
    return View ? new View(bytes.buffer) : bytes.buffer;
  }

  /** JSON text of a result; typed arrays in the text form. */
  function toJson(value: unknown): string {
    const found = scan(value);
    if (found === 'tag') {
      throw new TypeError(
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
      throw new TypeError(
        'Run returned a value that cannot be sent as JSON (' +
          describe(error).message +
          '); return plain JSON values',
      );
    }
    return text === undefined ? 'null' : text;
  }

  function load(jobId: string, program: string, args: unknown): void {
    // `args` arrived with typed arrays in the text form, like task inputs.
    const argsJson = stringify(args) ?? 'null';
    jobArgs = argsJson.includes(BYTES_TAG) ? parse(argsJson, reviveBytes) : args;
    outcomePrefix = '{"jobId":' + stringify(jobId) + ',"index":';
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- compiling the job's program is this thread's purpose; its opaque origin and the page's CSP contain it
      const factory = new Function(
        'args',
        program + '\n;return typeof Run === "function" ? Run : undefined;',
      ) as (args: unknown) => Run | undefined;
      run = factory(args);
      if (run === undefined) {
        loadError = new TypeError('the program must define a function Run(input, args)');
      }
    } catch (error) {
      loadError = error;
    }
  }

  async function runChunk(chunkId: number, json: string, flushEach: boolean): Promise<void> {
    const tasks = (
      json.includes(BYTES_TAG) ? parse(json, reviveBytes) : parse(json)
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
        text =
          outcomePrefix + task.index + ',"ms":' + ms + ',"ok":true,"value":' + toJson(value) + '}';
      } catch (error) {
        const ms = round((now() - started) * 1000) / 1000;
        busyMs += ms;
        failures++;
        text =
          outcomePrefix +
          task.index +
          ',"ms":' +
          ms +
          ',"ok":false,"error":' +
          stringify(describe(error)) +
          '}';
      }
      outcomes = count === 0 ? text : outcomes + ',' + text;
      count++;
      const at = now();
      if ((flushEach || at - lastFlush >= flushIntervalMs) && i < tasks.length - 1) {
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
    for (let message = inbox.shift(); message; message = inbox.shift()) {
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
      const message = inner.data as PageToThread;
      if (message.type === 'stop') {
        stopChunkId = message.chunkId;
        return;
      }
      inbox.push(message);
      if (!draining) void drain();
    };
    send({ type: 'ready' });
  };
}

/** The thread's source, as the page starts it (thread-host.ts). */
export const SANDBOX_WORKER_SOURCE = `(${sandboxWorkerMain.toString()})(${THREAD_FLUSH_INTERVAL_MS});`;

/**
 * The job thread's runtime: a classic Web Worker started from a `data:` URL (opaque origin, the
 * page's no-network Content-Security-Policy; see web-worker-thread-host.ts). {@link threadMain}
 * and the parts it is given are shipped as source text (thread-source.ts), so each must be
 * self-contained: it may use globals and its own locals, never a value imported here
 * (type-only imports are erased).
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
 *
 * The parts are taken apart into locals before any job code runs and called as plain
 * functions: the per-task path costs what it did as one function, and no part's object is on
 * a stack job code can walk.
 */
import type { OutcomeLimits } from './outcome-limits.js';
import type { PageToThread, ThreadTask, ThreadToPage } from './sandbox-protocol.js';
import type { captureNatives } from './captured-natives.js';
import type { Protections } from './protections.js';
import type { hardenRealm } from './realm-hardening.js';
import type { TaskLimits } from './task-limits.js';
import type { resultJson } from './result-json.js';
import type { faithfulJson } from '@tabgrid/protocol/faithful-json';
import type { taskApi } from './task-api.js';
import type { taskFormat } from './task-format.js';
import type { taskMessages } from './task-messages.js';
import type { taskFailures } from './task-failures.js';
import type { taskGpu } from './task-gpu.js';
import type { outcomeTexts } from './outcome-texts.js';

/** The self-contained parts {@link threadMain} is started with, as source text of their own. */
export interface ThreadParts {
  captureNatives: typeof captureNatives;
  hardenRealm: typeof hardenRealm;
  taskFailures: typeof taskFailures;
  resultJson: typeof resultJson;
  faithfulJson: typeof faithfulJson;
  taskApi: typeof taskApi;
  taskMessages: typeof taskMessages;
  taskFormat: typeof taskFormat;
  taskGpu: typeof taskGpu;
  outcomeTexts: typeof outcomeTexts;
}

interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
}

/** A queued page message: a null-prototype node, so no property write consults a prototype. */
interface InboxNode {
  message: PageToThread;
  next: InboxNode | null;
}

export function threadMain(
  parts: ThreadParts,
  flushIntervalMs: number,
  protections: Protections,
  limits: OutcomeLimits,
  taskLimits: TaskLimits,
): void {
  const scope = globalThis as unknown as WorkerScope;
  // ---- Captured before any job code runs (captured-natives.ts) --------------------------
  const natives = parts.captureNatives(protections);
  const { stringify, parse, now, round, includes, eventData } = natives;
  const { NativePromise, NativeTypeError, NativeError, NativeMessageChannel, evaluate } = natives;
  parts.hardenRealm(protections, natives);
  const { describe, bounded, refusal, deeperThan, utf8Length, thousands } = parts.taskFailures(
    natives,
    limits,
  );
  const faithful = parts.faithfulJson(limits.maxValueDepth);
  const maxResultBytes = limits.maxResultBytes;
  const values = parts.resultJson(
    natives,
    describe,
    faithful,
    limits.maxValueDepth,
    maxResultBytes,
  );
  const { BYTES_TAG, reviveBytes, toJson, valuesFor, scan } = values;
  const { attachMark, dropSince, outgrows } = values;
  let post: ((message: ThreadToPage, transfer?: ArrayBuffer[]) => void) | undefined;
  // `tabgrid.gpu()` (task-gpu.ts): its device, and the failure of a thread that cannot keep one.
  const gpuPart = parts.taskGpu(natives);
  const gpuFailure = gpuPart.failure;
  /** The loaded job requires WebGPU: only then is there a device whose loss fails a task. */
  let gpuJob = false;
  // `tabgrid` and `console` of job code (task-api.ts), installed before any job code runs.
  const api = parts.taskApi(
    parts.taskMessages,
    parts.taskFormat,
    natives,
    taskLimits,
    { toJson, reviveBytes, BYTES_TAG, describe, deeperThan, utf8Length, thousands },
    (tel: string) => post?.({ type: 'tel', tel }),
    gpuPart.gpu,
  );
  const { begin, end, yielding, seriesPart } = api;
  api.install();
  // Outcome texts and results messages (outcome-texts.ts).
  const texts = parts.outcomeTexts(natives, bounded, refusal, values, seriesPart, (m, t) =>
    post?.(m, t),
  );
  const { failedText, valueText, sendResults } = texts;

  type Run = (input: unknown, args: unknown) => unknown;
  type Hook = (args?: unknown) => unknown;
  let run: Run | undefined;
  let setup: Hook | undefined;
  let teardown: Hook | undefined;
  /** Setup: 0 not run yet, 1 ran (or running), and its failure as error JSON text if it threw. */
  let setupState = 0;
  let setupError = '';
  /** This thread ran Setup or a task of its job: Teardown has something to tear down. */
  let started = false;
  let loadError: unknown;
  let jobArgs: unknown;
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
  /** Report text flushes with the results once this long (logs of many tasks add up). */
  const maxTelChars = 1024 * 1024;
  /** Thrown past Run for the tasks of a thread whose Setup failed: their outcome is made. */
  const setupSkip = new NativeError('Setup failed on this thread');
  const yieldToEvents = (): Promise<void> =>
    new NativePromise<void>((resolve) => {
      resume = resolve;
      tickPost(null);
    });

  function isThenable(value: unknown): value is PromiseLike<unknown> {
    return (
      (typeof value === 'object' || typeof value === 'function') &&
      value !== null &&
      typeof (value as { then?: unknown }).then === 'function'
    );
  }

  // Strict job code: `arguments.callee` and `.caller` throw inside it, and it cannot turn a
  // runtime frame sloppy. Sloppy-only programs (`with`, octal literals, implicit globals,
  // `this` as the global in Run) fail to load or throw, with the parser's or engine's message.
  // The wrapper shares the program's first line and the sourceURL names the script, so its
  // frames read `job.js:<the program's own line>`, with no eval origin (task-failures.ts keeps
  // those frames and drops the runtime's). `new Function` would add two lines of its own.
  const jobPrologue = (protections.strict ? '"use strict";' : '') + '(function (args) {';
  // Indexed reads of an array literal's own elements consult no prototype.
  const jobEpilogue =
    '\n;return [typeof Run === "function" ? Run : undefined, ' +
    'typeof Setup === "function" ? Setup : undefined, ' +
    'typeof Teardown === "function" ? Teardown : undefined];\n})\n//# sourceURL=job.js';

  function load(jobId: string, program: string, args: unknown, webgpu: boolean): void {
    gpuJob = webgpu;
    gpuPart.setRequired(webgpu);
    // `args` arrived with typed arrays as they are, or in the text form (then revived).
    jobArgs = scan(args, 0) === 'tag' ? parse(stringify(args) ?? 'null', reviveBytes) : args;
    texts.setJob(jobId);
    valuesFor(program);
    try {
      // Compiling the job's program is this thread's purpose; its opaque origin and the page's
      // CSP contain it. `evaluate` is an indirect eval: the program sees globals only.
      const factory = evaluate(jobPrologue + program + jobEpilogue) as (
        args: unknown,
      ) => [Run | undefined, Hook | undefined, Hook | undefined];
      const defined = factory(args);
      run = defined[0];
      setup = defined[1];
      teardown = defined[2];
      if (run === undefined) {
        loadError = new NativeTypeError('the program must define a function Run(input, args)');
      }
    } catch (error) {
      loadError = error;
    }
  }

  /**
   * The thread's GPU failure ('' if none) after a task threw: a loss that made its GPU work
   * fail may be told a task later than the rejection, so wait one macrotask for it.
   */
  async function gpuLoss(): Promise<string> {
    if (gpuFailure() === '' && gpuPart.requested()) await yieldToEvents();
    return gpuFailure();
  }

  /** Runs Setup once: its time and lines go to the page as the job's report (index null). */
  async function runSetup(): Promise<void> {
    setupState = 1;
    started = true;
    api.beginJob();
    const t0 = now();
    let ok = true;
    try {
      const result = (setup as Hook)(jobArgs);
      if (isThenable(result)) await result;
    } catch (error) {
      ok = false;
      const told = bounded(describe(error));
      setupError = stringify({
        name: told.name,
        message: told.message,
        stack: told.stack,
        phase: 'setup',
      });
    }
    // A device Setup could not get (or lost) fails the thread's tasks as a failed Setup does.
    if (gpuJob && ok && gpuFailure() !== '') {
      ok = false;
      setupError = gpuFailure();
    }
    const ms = round((now() - t0) * 1000) / 1000;
    const tel = end(',"setup":{"ms":' + ms + ',"ok":' + (ok ? 'true' : 'false') + '}');
    post?.({ type: 'setup', ok, ms, tel });
  }

  /** The thread leaves the job: Teardown (if the program has one and the job started here). */
  async function runTeardown(): Promise<void> {
    api.beginJob();
    if (teardown !== undefined && started) {
      started = false;
      try {
        const result = teardown();
        if (isThenable(result)) await result;
      } catch (error) {
        const told = describe(error);
        api.note('error', 'Teardown threw ' + told.name + ': ' + told.message);
      }
    }
    post?.({ type: 'tornDown', tel: end() });
  }

  async function runChunk(
    chunkId: number,
    given: string | ThreadTask[],
    flushEach: boolean,
    attach: boolean,
  ): Promise<void> {
    // JSON text (typed arrays in the text form, revived), or cloned with typed arrays as they are.
    const tasks = (
      typeof given !== 'string'
        ? given
        : includes(given, BYTES_TAG)
          ? parse(given, reviveBytes)
          : parse(given)
    ) as ThreadTask[];
    // Outcome texts joined by commas as they come: a plain string, which job code cannot
    // reach or patch the way it could patch Array.prototype.push or join.
    let outcomes = '';
    let tel = '';
    let count = 0;
    let failures = 0;
    let busyMs = 0;
    if (gpuJob) gpuPart.newChunk();
    if (setup !== undefined && setupState === 0 && run !== undefined) await runSetup();
    started = true;
    let lastFlush = now();
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i] as ThreadTask;
      const startedAt = now();
      begin(task.index, startedAt);
      let text: string;
      try {
        if (run === undefined) throw loadError;
        if (setupError !== '' || (gpuJob && gpuFailure() !== '')) throw setupSkip;
        const result = run(task.input, jobArgs);
        // Sync results skip `await`: a microtask per tiny task would cost real throughput.
        let value = result;
        if (isThenable(result)) {
          yielding();
          value = await result;
        }
        // A device lost during the task fails the attempt: it runs elsewhere (task-gpu.ts).
        if (gpuJob && gpuFailure() !== '') throw setupSkip;
        const ms = round((now() - startedAt) * 1000) / 1000;
        busyMs += ms;
        const mark = attachMark();
        text = valueText(task.index, ms, value, attach);
        if (attach && count > 0 && outgrows(outcomes.length + text.length)) {
          // Too much for one frame with what waits: that goes first, then this one on its own.
          dropSince(mark);
          sendResults(chunkId, outcomes, count, failures, busyMs - ms, false, tel);
          outcomes = '';
          tel = '';
          count = 0;
          failures = 0;
          busyMs = ms;
          text = valueText(task.index, ms, value, attach);
        }
        if (texts.refused()) failures++;
      } catch (error) {
        failures++;
        if (error === setupSkip || (gpuJob && (await gpuLoss()) !== '')) {
          text = failedText(task.index, 0, setupError !== '' ? setupError : gpuFailure(), '');
        } else {
          const ms = round((now() - startedAt) * 1000) / 1000;
          busyMs += ms;
          text = failedText(task.index, ms, stringify(bounded(describe(error))), seriesPart());
        }
      }
      const told = end();
      if (told !== '') tel = tel === '' ? told : tel + ',' + told;
      outcomes = count === 0 ? text : outcomes + ',' + text;
      count++;
      const at = now();
      // A batch as large as a result may be goes at once: the page sends big ones a frame each,
      // and big results gathered into one string could outgrow what a string may hold.
      if (
        (flushEach ||
          at - lastFlush >= flushIntervalMs ||
          outcomes.length >= maxResultBytes ||
          tel.length >= maxTelChars) &&
        i < tasks.length - 1
      ) {
        sendResults(chunkId, outcomes, count, failures, busyMs, false, tel);
        outcomes = '';
        tel = '';
        count = 0;
        failures = 0;
        busyMs = 0;
        // Only long chunks get here (a flush interval has passed): the break costs little.
        await yieldToEvents();
        lastFlush = now();
        if (stopChunkId === chunkId) break;
      }
    }
    sendResults(chunkId, outcomes, count, failures, busyMs, true, tel);
  }

  async function drain(): Promise<void> {
    draining = true;
    while (inboxHead !== null) {
      const message = inboxHead.message;
      inboxHead = inboxHead.next;
      if (inboxHead === null) inboxTail = null;
      if (message.type === 'load') {
        load(message.jobId, message.program, message.args, message.webgpu === true);
        // Setup runs only for a program that has Run (else every task fails at once).
        const runsSetup = setup !== undefined && run !== undefined;
        post?.({ type: 'loaded', setup: runsSetup, teardown: teardown !== undefined });
      } else if (message.type === 'run') {
        await runChunk(message.chunkId, message.tasks, message.flushEach, message.attach === true);
      } else if (message.type === 'teardown') {
        await runTeardown();
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
    const send = port.postMessage.bind(port) as (
      message: ThreadToPage,
      transfer?: ArrayBuffer[],
    ) => void;
    post = send;
    port.onmessage = (inner: MessageEvent) => {
      const message = eventData(inner) as PageToThread;
      if (message.type === 'stop') {
        stopChunkId = message.chunkId;
        return;
      }
      // Messages and limits reach job code at once, even while a task awaits `tabgrid.next()`.
      if (message.type === 'message') {
        api.onMessage(message.seq, message.json);
        return;
      }
      if (message.type === 'limit') {
        api.setLimit(message.what, message.message);
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

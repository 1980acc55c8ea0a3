/**
 * Part of the thread runtime shipped as source text (see thread-source.ts): self-contained, it
 * may use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { TaskLimits } from './task-limits.js';
import type { CapturedNatives } from './captured-natives.js';
import type { taskFormat } from './task-format.js';
import type { TaskApiHelpers } from './task-helpers.js';
import type { taskMessages } from './task-messages.js';

type Level = 'log' | 'info' | 'warn' | 'error' | 'debug';
interface SeriesNode {
  text: string;
  count: number;
}

/**
 * The `tabgrid` global and `console` of job code, and what they gathered. Nothing is posted or
 * allocated until job code calls one of them: the runtime's per-task cost is {@link begin} and
 * {@link end}, two assignments and a test when nothing was touched. What a task logged, emitted
 * and reported as progress leaves as the text of one protocol `TaskReport` (without `jobId`,
 * which the page adds); what it collected as text appended to its outcome ({@link seriesPart}).
 *
 * Job code may patch every global and prototype: this part uses captured natives, string
 * concatenation and null-prototype nodes only, never an array method or a Map.
 */
export function taskApi(
  messages: typeof taskMessages,
  format: typeof taskFormat,
  natives: CapturedNatives,
  limits: TaskLimits,
  helpers: TaskApiHelpers,
  /** Posts a report text mid-task (progress, lines so far) or between tasks. */
  postTel: (tel: string) => void,
  gpu: () => Promise<unknown>, // tabgrid.gpu() (task-gpu.ts)
) {
  const { stringify, now, epochNow, slice, freeze, defineProperty } = natives;
  const { NativeTypeError, NativeRangeError } = natives;
  const { utf8Length, thousands } = helpers;
  const { formatOne, isLabel, dataJson } = format(natives, helpers, limits);
  /** Calls closer than this are dense: see maybePost. */
  const denseMs = 1;

  // ---- The current phase: a task (its index as text) or the job ('null': Setup, Teardown) ----
  /** The current task's index; null: the job's own phase. */
  let index: number | null = null;
  let inTask = false;
  let touched = false;
  let fraction: number | null = null;
  let progressDirty = false;
  // Progress coalescing (maybePost): calls left before the next clock read, calls between two
  // reads, when the last read was, and when this phase last posted (or began, for a task).
  let countdown = 1;
  let checkEvery = 1;
  let lastCheck = 0;
  let lastPost = -Infinity;
  let logText = '';
  let lines = 0;
  let logsDropped = 0;
  let lastLevel = '';
  let lastMessage = '';
  let lastCount = 0;
  let lastAt = 0;
  let eventText = '';
  let events = 0;
  let eventsDropped = 0;
  let labels = Object.create(null) as Record<string, SeriesNode>;
  let labelCount = 0;
  let seriesBytes = 0;
  /** The server's `limit` frame's message, once the job's series are full. */
  let jobSeriesFull = '';

  function reset(): void {
    touched = false;
    fraction = null;
    progressDirty = false;
    countdown = 1;
    checkEvery = 1;
    logText = '';
    lines = 0;
    logsDropped = 0;
    lastLevel = '';
    lastCount = 0;
    eventText = '';
    events = 0;
    eventsDropped = 0;
    if (labelCount !== 0) labels = Object.create(null) as Record<string, SeriesNode>;
    labelCount = 0;
    seriesBytes = 0;
  }

  /** A task starts at `startedAt`; one that ends within progressPostMs posts nothing mid-task. */
  function begin(taskIndex: number, startedAt: number): void {
    if (touched) reset();
    index = taskIndex;
    inTask = true;
    lastPost = startedAt;
    lastCheck = startedAt;
  }

  /** Setup, Teardown or a message handler between tasks: lines have index null. */
  function beginJob(): void {
    if (touched) reset();
    index = null;
    inTask = false;
    lastPost = -Infinity; // Setup is rare: its first line goes at once
    lastCheck = 0;
  }

  function pushLine(level: string, message: string, count: number, at: number): void {
    const text =
      '{"level":"' +
      level +
      '","message":' +
      stringify(message) +
      ',"count":' +
      (count > 1e9 ? 1e9 : count) +
      ',"at":' +
      at +
      '}';
    logText = logText === '' ? text : logText + ',' + text;
  }

  function settleLastLine(): void {
    if (lastCount === 0) return;
    pushLine(lastLevel, lastMessage, lastCount, lastAt);
    lastCount = 0;
  }

  /** The report text of what happened since the last one; `extra` is more properties. */
  function itemText(final: boolean, extra: string): string {
    if (final) {
      settleLastLine();
      if (logsDropped !== 0) {
        pushLine(
          'warn',
          thousands(logsDropped) +
            ' lines dropped (limit ' +
            thousands(limits.logsPerTask) +
            ' per task)',
          1,
          epochNow(),
        );
      }
    }
    let text = '{"index":' + index;
    if (progressDirty && !final) text += ',"progress":' + (fraction === null ? 'null' : fraction);
    progressDirty = false;
    if (logText !== '') text += ',"logs":[' + logText + ']';
    if (eventText !== '') text += ',"events":[' + eventText + ']';
    if (final && (logsDropped !== 0 || eventsDropped !== 0)) {
      text += ',"dropped":{';
      if (logsDropped !== 0) text += '"logs":' + logsDropped;
      if (eventsDropped !== 0) text += (logsDropped !== 0 ? ',' : '') + '"events":' + eventsDropped;
      text += '}';
    }
    logText = '';
    eventText = '';
    return text + extra + '}';
  }

  /** The phase ends: its report text, or '' when job code touched nothing (the plain path). */
  function end(extra = ''): string {
    inTask = false;
    if (!touched && extra === '') {
      index = null;
      return '';
    }
    // A task that only reported progress or collected has nothing to say once it ends.
    const quiet = extra === '' && lastCount === 0 && logText === '' && eventText === '';
    const text = quiet && logsDropped === 0 && eventsDropped === 0 ? '' : itemText(true, extra);
    reset();
    index = null;
    return text;
  }

  /**
   * Posts what a long phase has so far, at most every `progressPostMs`. The clock is read at an
   * adaptive interval: at every call while calls are sparse (≥ `denseMs` apart), so a slow task
   * posts at its first call past the interval; every 2nd, 4th … 64th call while they are dense,
   * so a tight loop pays a decrement and a test per call (checks stay < 2 × `denseMs` apart).
   * When a dense phase turns sparse, at most 64 calls pass before the interval is 1 again.
   */
  function maybePost(): void {
    if (--countdown > 0) return;
    const at = now();
    if (at - lastCheck < denseMs) {
      if (checkEvery < 64) checkEvery += checkEvery;
    } else {
      checkEvery = 1;
    }
    countdown = checkEvery;
    lastCheck = at;
    if (at - lastPost < limits.progressPostMs) return;
    lastPost = at;
    if (progressDirty || logText !== '' || eventText !== '') postTel(itemText(false, ''));
  }

  /** Run returned a promise: what it reported so far goes now, as its wait may be long. */
  function yielding(): void {
    if (!touched || !(progressDirty || logText !== '' || eventText !== '')) return;
    lastPost = now();
    postTel(itemText(false, ''));
  }

  // ---- console ---------------------------------------------------------------------------

  function cutLine(text: string): string {
    return text.length <= limits.logLength ? text : slice(text, 0, limits.logLength);
  }

  function logAt(level: Level, parts: unknown[]): void {
    touched = true;
    // Over the cap a line costs a count: no formatting.
    if (lines >= limits.logsPerTask) {
      logsDropped++;
      maybePost();
      return;
    }
    let message = '';
    for (let i = 0; i < parts.length && message.length <= limits.logLength; i++) {
      message = i === 0 ? formatOne(parts[i]) : message + ' ' + formatOne(parts[i]);
    }
    message = cutLine(message);
    if (lastCount !== 0 && level === lastLevel && message === lastMessage) {
      lastCount++;
    } else {
      settleLastLine();
      lines++;
      lastLevel = level;
      lastMessage = message;
      lastCount = 1;
      lastAt = epochNow();
    }
    maybePost();
  }

  const jobConsole = freeze({
    __proto__: null,
    log: (...parts: unknown[]) => logAt('log', parts),
    info: (...parts: unknown[]) => logAt('info', parts),
    warn: (...parts: unknown[]) => logAt('warn', parts),
    error: (...parts: unknown[]) => logAt('error', parts),
    debug: (...parts: unknown[]) => logAt('debug', parts),
    trace: (...parts: unknown[]) => logAt('debug', parts),
  });

  // ---- progress, emit, collect -------------------------------------------------------------
  function progress(value?: unknown): void {
    if (!inTask) return; // Setup and Teardown have no task to report on
    if (value === undefined) {
      fraction = null;
    } else if (typeof value !== 'number' || value !== value) {
      throw new NativeTypeError(
        'tabgrid.progress: the fraction must be a number from 0 to 1 (or nothing, for "alive")',
      );
    } else {
      fraction = value < 0 ? 0 : value > 1 ? 1 : value;
    }
    touched = true;
    progressDirty = true;
    maybePost();
  }

  function emit(name: unknown, data?: unknown): void {
    if (typeof name !== 'string' || name.length === 0 || name.length > limits.eventNameLength) {
      throw new NativeTypeError(
        'tabgrid.emit: the name must be a string of 1 to ' + limits.eventNameLength + ' characters',
      );
    }
    touched = true;
    if (events >= limits.eventsPerTask) {
      eventsDropped++;
      return;
    }
    const json = dataJson(data, 'tabgrid.emit');
    if (json.length > limits.eventDataBytes / 3 && utf8Length(json) > limits.eventDataBytes) {
      throw new NativeRangeError(
        'tabgrid.emit: the data weighs more than ' +
          thousands(limits.eventDataBytes) +
          ' bytes as JSON (the limit per event); send less, or collect it instead',
      );
    }
    events++;
    const text = '{"name":' + stringify(name) + ',"data":' + json + ',"at":' + epochNow() + '}';
    eventText = eventText === '' ? text : eventText + ',' + text;
    maybePost();
  }

  function collect(label: unknown, value: unknown): void {
    if (!isLabel(label)) {
      throw new NativeTypeError(
        'tabgrid.collect: the label must be 1 to ' +
          limits.labelLength +
          ' letters, digits, or _ . : / - and spaces',
      );
    }
    if (!inTask) return; // collected series belong to a task's outcome
    if (jobSeriesFull !== '') throw new NativeRangeError(jobSeriesFull);
    const json = dataJson(value, 'tabgrid.collect');
    const bytes = json.length * 3 <= limits.seriesBytesPerTask ? json.length : utf8Length(json);
    if (seriesBytes + bytes + 1 > limits.seriesBytesPerTask) {
      throw new NativeRangeError(
        "tabgrid.collect: this task's series reached " +
          limits.seriesBytesPerTask / 1048576 +
          ' MB (the limit per task); collect less per task or aggregate first',
      );
    }
    let node = labels[label];
    if (node === undefined) {
      if (labelCount >= limits.labelsPerTask) {
        throw new NativeRangeError(
          'tabgrid.collect: this task collected under ' +
            limits.labelsPerTask +
            ' labels (the limit per task); use fewer labels',
        );
      }
      node = { __proto__: null, text: json, count: 1 } as unknown as SeriesNode;
      labels[label] = node;
      labelCount++;
    } else {
      if (node.count >= limits.valuesPerLabel) {
        throw new NativeRangeError(
          "tabgrid.collect: this task's series " +
            stringify(label) +
            ' has ' +
            thousands(limits.valuesPerLabel) +
            ' values (the limit per task); collect less per task or aggregate first',
        );
      }
      node.text = node.text + ',' + json;
      node.count++;
    }
    seriesBytes += bytes + 1;
    touched = true;
  }

  /** `,"series":[…]` for the task's outcome, or '' when it collected nothing. */
  function seriesPart(): string {
    if (labelCount === 0) return '';
    let text = '';
    for (const label in labels) {
      const part =
        '{"label":' + stringify(label) + ',"values":[' + (labels[label] as SeriesNode).text + ']}';
      text = text === '' ? part : text + ',' + part;
    }
    return ',"series":[' + text + ']';
  }

  /** The server's `limit` frame: collect throws from now on. */
  function setLimit(what: string, message: string): void {
    if (what === 'series') jobSeriesFull = message;
  }

  // ---- messages: listen() and next() (task-messages.ts) --------------------------------
  const { listen, next, onMessage } = messages(natives, helpers, {
    handlerThrew(message: string) {
      logAt('error', [message]);
    },
    delivered() {
      // A handler's lines between tasks go at once (inside a task, with the task's report).
      if (!inTask && touched) {
        const tel = end();
        if (tel !== '') postTel(tel);
      }
    },
  });

  const tabgrid = freeze({ __proto__: null, progress, collect, emit, listen, next, gpu });

  /** Installs `tabgrid` and `console` on the global, before any job code runs. */
  function install(): void {
    defineProperty(globalThis, 'tabgrid', {
      value: tabgrid,
      writable: false,
      enumerable: false,
      configurable: false,
    });
    defineProperty(globalThis, 'console', {
      value: jobConsole,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }

  /** A line of the runtime's own (Teardown's error), in the current phase. */
  function note(level: Level, message: string): void {
    logAt(level, [message]);
  }

  return { install, begin, beginJob, end, yielding, seriesPart, onMessage, setLimit, note };
}

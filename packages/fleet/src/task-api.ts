/**
 * The `tabgrid` global and `console` of simulated threads, as the worker page gives them to job
 * code (plan-13 §1.3): coalesced progress, collapsed and capped console lines, collected series,
 * events, and the messages of `job.tell` (`listen`, `next`). Same caps and messages as the page:
 * both read TASK_LIMITS from @tabgrid/protocol/task-reports.
 *
 * A program is compiled once per fleet (programs are shared), so the `tabgrid` and `console` it
 * sees are two fixed objects; which task a call belongs to is the async context the executor runs
 * the call in (`runIn`), which follows `await`s as a thread's state would.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  LABEL_PATTERN,
  REPORT_LIMITS,
  TASK_LIMITS,
  droppedLinesMessage,
  seriesJobLimitMessage,
  seriesTaskLimitMessage,
  type LogLevel,
  type ReportEvent,
  type ReportLog,
  type TaskReport,
} from '@tabgrid/protocol/task-reports';
import { formatLine, serialize } from './task-values.js';

/** What the caps of a sim's threads skip (hostile tests: see Behavior.reportLies). */
export interface TelLies {
  /** Per-task line and event caps off. */
  floodLogs?: boolean;
  /** The per-task 1 MB series cap off (up to {@link HOSTILE_SERIES_BYTES}). */
  hugeSeries?: boolean;
  /** Every progress call is reported at once, uncoalesced. */
  progressSpam?: boolean;
}

/** A hostile sim's series per task stay within one frame. */
export const HOSTILE_SERIES_BYTES = 8 * 1024 * 1024;

/** Where a context's reports and the job's messages live (one per executor and job). */
export interface JobChannel {
  readonly jobId: string;
  /** `job.tell` messages so far, in seq order. */
  readonly messages: { seq: number; data: unknown }[];
  /** The server said the job's series are full. */
  seriesLimit: number | undefined;
  lies(): TelLies;
  /** A report item to send (the report outbox coalesces and batches). */
  post(item: TaskReport): void;
}

/** One simulated thread's view of one job: its listeners and its `next()` cursor. */
export class SlotChannel {
  readonly listeners = new Set<(data: unknown, seq: number) => void>();
  private cursor = 0;
  private readonly waiters: ((data: unknown) => void)[] = [];

  constructor(readonly job: JobChannel) {}

  next(): Promise<unknown> {
    const message = this.job.messages[this.cursor];
    if (message) {
      this.cursor++;
      return Promise.resolve(message.data);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A message arrived for the job: wake `next()` waiters, call listeners. */
  deliver(seq: number, data: unknown): void {
    while (this.waiters.length > 0 && this.cursor < this.job.messages.length) {
      this.waiters.shift()!(this.job.messages[this.cursor++]!.data);
    }
    for (const listener of this.listeners) this.callListener(listener, seq, data);
  }

  callListener(listener: (data: unknown, seq: number) => void, seq: number, data: unknown): void {
    const tel = new TaskTel(this, null);
    try {
      runIn(tel, () => listener(data, seq));
    } catch (error) {
      tel.log('error', [`tabgrid.listen handler threw: ${String(error)}`]);
    }
    tel.finish();
  }
}

function now(): number {
  return Date.now();
}

/**
 * What one task (index) or one Setup/Teardown/listener call (index null) did: the state the
 * page's thread keeps in locals, as an object.
 */
export class TaskTel {
  private fraction: number | null | undefined;
  private progressDirty = false;
  /** Adaptive clock reads, as the page's thread does (task-api.ts there): see progress(). */
  private countdown = 1;
  private checkEvery = 1;
  private lastCheck = now();
  /** Task start: a task that ends within progressPostMs posts nothing mid-task. */
  private lastPost = this.lastCheck;
  private logs: ReportLog[] = [];
  private lastKey: string | undefined;
  private lines = 0;
  private logsDropped = 0;
  private events: ReportEvent[] = [];
  private eventsDropped = 0;
  private series: Map<string, string[]> | undefined;
  private seriesBytes = 0;
  /** Set by the executor for the report's `started` (jobs with progressTimeoutMs). */
  started = false;
  /** Finished: a late call (a timed-out task still running) reports nothing. */
  private closed = false;
  /** The worker's lies as the context began (read once: progress() is called in tight loops). */
  private readonly lies: TelLies;

  constructor(
    readonly slot: SlotChannel,
    readonly index: number | null,
  ) {
    this.lies = slot.job.lies();
  }

  progress(fraction?: unknown): void {
    if (this.index === null || this.closed) return;
    if (fraction === undefined) this.fraction = null;
    else if (typeof fraction !== 'number' || Number.isNaN(fraction)) {
      throw new TypeError('tabgrid.progress(fraction): fraction must be a number from 0 to 1');
    } else this.fraction = Math.min(1, Math.max(0, fraction));
    this.progressDirty = true;
    if (this.lies.progressSpam === true) {
      this.postNow();
      return;
    }
    // The clock is read at every call while calls are ≥ 1 ms apart, every 2nd … 64th while
    // they are denser: a tight loop pays a decrement per call, a slow task posts on time.
    if (--this.countdown > 0) return;
    const at = now();
    if (at - this.lastCheck < 1) {
      if (this.checkEvery < 64) this.checkEvery += this.checkEvery;
    } else this.checkEvery = 1;
    this.countdown = this.checkEvery;
    this.lastCheck = at;
    if (at - this.lastPost >= TASK_LIMITS.progressPostMs) this.postNow();
  }

  log(level: LogLevel, args: readonly unknown[]): void {
    if (this.closed) return;
    const flood = this.lies.floodLogs === true;
    if (this.lines >= TASK_LIMITS.maxLogsPerTask && !flood) {
      this.logsDropped++;
      return;
    }
    const message = formatLine(args);
    const key = `${level}\u0000${message}`;
    const last = this.logs[this.logs.length - 1];
    if (key === this.lastKey && last) {
      last.count = Math.min(REPORT_LIMITS.maxCount, last.count + 1);
      return;
    }
    this.lastKey = key;
    this.lines++;
    this.logs.push({ level, message, count: 1, at: now() });
    if (flood && this.logs.length >= REPORT_LIMITS.maxLogsPerItem) this.postNow();
  }

  emit(name: unknown, data: unknown): void {
    if (
      typeof name !== 'string' ||
      name.length < 1 ||
      name.length > TASK_LIMITS.maxEventNameLength
    ) {
      throw new TypeError(
        `tabgrid.emit(name, data): name must be a string of 1 to ${TASK_LIMITS.maxEventNameLength} characters`,
      );
    }
    if (this.closed) return;
    const flood = this.lies.floodLogs === true;
    if (this.events.length >= TASK_LIMITS.maxEventsPerTask && !flood) {
      this.eventsDropped++;
      return;
    }
    const text = serialize(data, 'tabgrid.emit');
    if (Buffer.byteLength(text) > TASK_LIMITS.maxEventDataBytes) {
      throw new RangeError(
        `tabgrid.emit: data is larger than ${TASK_LIMITS.maxEventDataBytes} bytes of JSON (the limit per event); send less, or collect it as a series`,
      );
    }
    this.events.push({ name, data: JSON.parse(text), at: now() });
    if (flood && this.events.length >= REPORT_LIMITS.maxEventsPerItem) this.postNow();
  }

  collect(label: unknown, value: unknown): void {
    if (this.index === null || this.closed) return;
    if (typeof label !== 'string' || !LABEL_PATTERN.test(label)) {
      throw new TypeError(
        'tabgrid.collect(label, value): label must be 1 to 100 letters, digits or . : / - _ and spaces',
      );
    }
    const limit = this.slot.job.seriesLimit;
    if (limit !== undefined) throw new RangeError(seriesJobLimitMessage(limit));
    const text = serialize(value, 'tabgrid.collect');
    const hostile = this.lies.hugeSeries === true;
    const cap = hostile ? HOSTILE_SERIES_BYTES : TASK_LIMITS.maxSeriesBytesPerTask;
    if (this.seriesBytes + text.length + 1 > cap) throw new RangeError(seriesTaskLimitMessage());
    this.series ??= new Map();
    let values = this.series.get(label);
    if (!values) {
      if (this.series.size >= TASK_LIMITS.maxLabelsPerTask) {
        throw new RangeError(
          `tabgrid.collect: this task collected under ${TASK_LIMITS.maxLabelsPerTask} labels (the limit per task); use fewer labels`,
        );
      }
      values = [];
      this.series.set(label, values);
    }
    if (values.length >= REPORT_LIMITS.maxValuesPerAppend) {
      throw new RangeError(
        `tabgrid.collect: this task collected ${REPORT_LIMITS.maxValuesPerAppend} values under "${label}" (the limit per label and task); aggregate first`,
      );
    }
    values.push(text);
    this.seriesBytes += text.length + 1;
  }

  /** Sends what is waiting now (mid-task progress, a flood's full item). */
  private postNow(): void {
    const item = this.takeReport();
    if (item) this.slot.job.post(item);
    this.lastPost = now();
  }

  /** The report of what happened since the last one, or undefined when nothing did. */
  private takeReport(final = false): TaskReport | undefined {
    const item: TaskReport = { jobId: this.slot.job.jobId, index: this.index };
    let any = false;
    if (this.started) {
      item.started = true;
      this.started = false;
      any = true;
    }
    if (this.progressDirty && this.fraction !== undefined) {
      item.progress = this.fraction;
      this.progressDirty = false;
      any = true;
    }
    if (final && this.logsDropped > 0) {
      this.logs.push({
        level: 'warn',
        message: droppedLinesMessage(this.logsDropped),
        count: 1,
        at: now(),
      });
    }
    if (final && this.eventsDropped > 0) {
      this.logs.push({
        level: 'warn',
        message: droppedLinesMessage(this.eventsDropped, 'events'),
        count: 1,
        at: now(),
      });
    }
    if (this.logs.length > 0) {
      item.logs = this.logs;
      this.logs = [];
      this.lastKey = undefined;
      any = true;
    }
    if (this.events.length > 0) {
      item.events = this.events;
      this.events = [];
      any = true;
    }
    if (final && (this.logsDropped > 0 || this.eventsDropped > 0)) {
      item.dropped = {
        ...(this.logsDropped > 0
          ? { logs: Math.min(this.logsDropped, REPORT_LIMITS.maxCount) }
          : {}),
        ...(this.eventsDropped > 0
          ? { events: Math.min(this.eventsDropped, REPORT_LIMITS.maxCount) }
          : {}),
      };
      any = true;
    }
    return any ? item : undefined;
  }

  /**
   * The context ends: its report goes to the outbox, and the series text (`[{label, values}]`
   * JSON, for the outcome) is returned, or undefined when it collected nothing.
   */
  finish(extra?: Partial<TaskReport>): string | undefined {
    if (this.closed) return undefined;
    this.closed = true;
    const item = this.takeReport(true);
    if (item || extra)
      this.slot.job.post({
        ...(item ?? { jobId: this.slot.job.jobId, index: this.index }),
        ...extra,
      });
    if (!this.series) return undefined;
    let text = '';
    for (const [label, values] of this.series) {
      text += `${text ? ',' : ''}{"label":${JSON.stringify(label)},"values":[${values.join(',')}]}`;
    }
    this.series = undefined;
    return `[${text}]`;
  }
}

const context = new AsyncLocalStorage<TaskTel>();

/** Runs `fn` (a Run, Setup, Teardown or listener call) as `tel`'s: its calls report there. */
export function runIn<T>(tel: TaskTel, fn: () => T): T {
  return context.run(tel, fn);
}

function current(): TaskTel | undefined {
  return context.getStore();
}

/**
 * The `tabgrid` object every simulated program sees. Outside any task (a program's top level)
 * everything is a no-op, and `next()` never resolves.
 */
export const SIM_TABGRID = Object.freeze({
  progress(fraction?: unknown): void {
    current()?.progress(fraction);
  },
  collect(label: unknown, value: unknown): void {
    current()?.collect(label, value);
  },
  emit(name: unknown, data: unknown): void {
    current()?.emit(name, data);
  },
  listen(handler: unknown): () => void {
    if (typeof handler !== 'function') {
      throw new TypeError('tabgrid.listen(handler): handler must be a function');
    }
    const slot = current()?.slot;
    if (!slot) return () => undefined;
    const listener = handler as (data: unknown, seq: number) => void;
    slot.listeners.add(listener);
    // The backlog first, after this call returns (as the page delivers it: asynchronously).
    const backlog = slot.job.messages.slice();
    queueMicrotask(() => {
      for (const m of backlog) {
        if (slot.listeners.has(listener)) slot.callListener(listener, m.seq, m.data);
      }
    });
    return () => {
      slot.listeners.delete(listener);
    };
  },
  next(): Promise<unknown> {
    const slot = current()?.slot;
    return slot ? slot.next() : new Promise(() => undefined);
  },
});

function level(name: LogLevel) {
  return (...args: unknown[]): void => {
    current()?.log(name, args);
  };
}

/** The `console` of simulated programs: the five levels report; other methods are Node's. */
export const SIM_CONSOLE: Console = Object.freeze(
  Object.assign(Object.create(console) as Console, {
    log: level('log'),
    info: level('info'),
    warn: level('warn'),
    error: level('error'),
    debug: level('debug'),
  }),
);

/**
 * One job of a local run, in memory: its tasks (input JSON in the text form, as the server
 * stores them), queue, tries, settled outcomes with their per-job `seq`, and what its tasks
 * reported (console lines, events, progress, series), as the server would keep them.
 * Settling follows the server's rules (apps/server core/settlement.ts), approximately: a throw
 * is retried `retryErrors` times with backoff; a timeout, a lost thread or a failed Setup costs
 * an attempt, up to `maxAttempts`.
 */
import { JOB_DEFAULTS, type JobInfo, type JobState, type Outcome } from '@tabgrid/protocol/jobs';
import type { CreateJobRequest, TaskFailure } from '@tabgrid/protocol/jobs';
import type { JobEvent, LogLine, SeriesItem, TaskProgress } from '@tabgrid/protocol/feeds';
import { TASK_LIMITS } from '@tabgrid/protocol/task-reports';
import type { WorkerFailure, WorkerOutcome } from '@tabgrid/protocol/worker';
import type { ThreadJob } from './local-thread.js';
import type { ThreadReport } from './thread-output.js';

/** Backoff of a retried throw: 100 ms doubling, capped at 30 s, ×0.5–1.5 (as the server). */
export function retryDelayMs(retries: number, random: number): number {
  return Math.min(30_000, 100 * 2 ** retries) * (0.5 + random);
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class LocalJob implements ThreadJob {
  readonly name: string;
  readonly group: string | null;
  readonly timeoutMs: number;
  readonly setupTimeoutMs: number;
  readonly maxAttempts: number;
  readonly retryErrors: number;
  readonly priority: number;
  readonly created: number;
  state: JobState = 'open';
  modified: number;
  /** Task inputs by index, JSON text in the text form. */
  readonly inputs: string[] = [];
  readonly batches = new Map<string, { firstIndex: number; count: number }>();
  /** Indexes waiting for a thread, in order. */
  readonly queue: number[] = [];
  /** Tasks on threads, and tasks waiting out a retry's backoff. */
  running = 0;
  readonly retryTimers = new Set<ReturnType<typeof setTimeout>>();
  readonly outcomes: Outcome[] = [];
  private readonly settledSet = new Set<number>();
  private readonly tries = new Map<number, { attempts: number; errorRetries: number }>();
  failed = 0;
  computeMs = 0;
  lastResult: number | null = null;
  readonly logs: LogLine[] = [];
  readonly events: JobEvent[] = [];
  private logsDropped = 0;
  private eventsDropped = 0;
  readonly series = new Map<string, SeriesItem[]>();
  readonly progress = new Map<number, TaskProgress>();
  readonly messages: { seq: number; json: string; id: string }[] = [];
  readonly setups = { count: 0, totalMs: 0, maxMs: 0 };
  /** Every thread that ran this job has left it (Teardown done): its log feeds may end. */
  threadsLeft = false;
  deleted = false;

  constructor(
    readonly jobId: string,
    request: Omit<CreateJobRequest, 'args' | 'program'>,
    /** The args parsed from their text form, as a thread's `load` takes them. */
    readonly args: unknown,
    readonly program: string,
    now: number,
  ) {
    this.name = request.name ?? '';
    this.group = request.group ?? null;
    this.timeoutMs = request.timeoutMs ?? JOB_DEFAULTS.timeoutMs;
    this.setupTimeoutMs = request.setupTimeoutMs ?? this.timeoutMs;
    this.maxAttempts = request.maxAttempts ?? JOB_DEFAULTS.maxAttempts;
    this.retryErrors = request.retryErrors ?? JOB_DEFAULTS.retryErrors;
    this.priority = request.priority ?? Math.round(request.bid ?? JOB_DEFAULTS.priority);
    this.created = now;
    this.modified = now;
  }

  get finished(): boolean {
    return this.state === 'done' || this.state === 'cancelled';
  }

  get total(): number {
    return this.inputs.length;
  }

  isSettled(index: number): boolean {
    return this.settledSet.has(index);
  }

  /** Adds a batch's tasks (once per batchId); its first index and count. */
  append(batchId: string, inputs: string[]): { firstIndex: number; count: number } {
    const known = this.batches.get(batchId);
    if (known) return known;
    const firstIndex = this.inputs.length;
    for (let i = 0; i < inputs.length; i++) {
      this.inputs.push(inputs[i]!);
      this.queue.push(firstIndex + i);
    }
    const batch = { firstIndex, count: inputs.length };
    this.batches.set(batchId, batch);
    return batch;
  }

  /** Records a settled task (the first outcome of an index wins); true if it was new. */
  settle(index: number, ok: boolean, valueOrError: unknown, now: number, ms = 0): boolean {
    if (this.settledSet.has(index) || this.deleted) return false;
    this.settledSet.add(index);
    this.progress.delete(index);
    const seq = this.outcomes.length + 1;
    if (ok) this.outcomes.push({ seq, index, ok: true, value: valueOrError });
    else {
      this.failed++;
      this.outcomes.push({ seq, index, ok: false, error: valueOrError as TaskFailure });
    }
    this.computeMs += ms;
    this.lastResult = now;
    this.modified = now;
    if (this.state === 'closed' && this.settledSet.size === this.inputs.length) this.state = 'done';
    return true;
  }

  /** What a thread answered for one task; `retry` puts a task back after `delayMs`. */
  accept(
    outcome: WorkerOutcome,
    now: number,
    retry: (index: number, delayMs: number) => void,
  ): void {
    const { index } = outcome;
    if (outcome.ok) {
      if (this.settle(index, true, outcome.value ?? null, now, outcome.ms)) {
        this.withSeries(index, outcome.series);
      }
      return;
    }
    const error = outcome.error;
    if (error.phase === 'setup') this.failAttempt(index, error, 'setup', now);
    else if (error.timedOut) this.failAttempt(index, error, 'timeout', now);
    else {
      const tries = this.triesOf(index);
      if (tries.errorRetries < this.retryErrors) {
        retry(index, retryDelayMs(tries.errorRetries, Math.random()));
        tries.errorRetries++;
        return;
      }
      const { name, message, stack } = error;
      if (this.settle(index, false, { name, message, stack, type: 'program' }, now, outcome.ms)) {
        this.withSeries(index, outcome.series);
      }
    }
  }

  /**
   * A try of task `index` failed without an answer (timeout, lost thread) or in Setup: it goes
   * back to the front of the queue until its attempts are spent, then settles.
   */
  failAttempt(
    index: number,
    error: WorkerFailure,
    type: 'timeout' | 'lost' | 'setup',
    now: number,
  ): void {
    const tries = this.triesOf(index);
    tries.attempts++;
    if (tries.attempts < this.maxAttempts) {
      this.queue.unshift(index);
      return;
    }
    const failure: TaskFailure =
      type === 'setup'
        ? { name: error.name, message: error.message, stack: error.stack, type }
        : {
            name: type === 'timeout' ? 'TimeoutError' : 'LostError',
            message: `Task ${index} failed ${tries.attempts} time(s) (maxAttempts ${this.maxAttempts}): ${error.message}`,
            stack: '',
            type,
          };
    this.settle(index, false, failure, now);
  }

  /** Cancels: every unsettled task settles as `cancelled`, in index order. */
  cancel(now: number): void {
    this.queue.length = 0;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (let index = 0; index < this.inputs.length; index++) {
      if (this.settledSet.has(index)) continue;
      const message = `Task ${index} did not run to the end: its job was cancelled.`;
      this.settle(
        index,
        false,
        { name: 'CancelledError', message, stack: '', type: 'cancelled' },
        now,
      );
    }
    this.state = 'cancelled';
    this.progress.clear();
  }

  /** A thread's reports of this job: lines, events, progress and Setup timings. */
  report(items: ThreadReport[], workerId: string, now: number): void {
    for (const item of items) {
      if (item.setup) {
        this.setups.count++;
        this.setups.totalMs += item.setup.ms;
        this.setups.maxMs = Math.max(this.setups.maxMs, item.setup.ms);
      }
      for (const { level, message, count, at } of item.logs ?? []) {
        if (this.logs.length >= TASK_LIMITS.maxLogsPerJob) this.logsDropped += count;
        else {
          const seq = this.logs.length + 1;
          this.logs.push({ seq, index: item.index, level, message, count, workerId, at: iso(at) });
        }
      }
      for (const { name, data, at } of item.events ?? []) {
        if (this.events.length >= TASK_LIMITS.maxEventsPerJob) this.eventsDropped++;
        else
          this.events.push({
            seq: this.events.length + 1,
            index: item.index,
            name,
            data,
            at: iso(at),
          });
      }
      this.logsDropped += item.dropped?.logs ?? 0;
      this.eventsDropped += item.dropped?.events ?? 0;
      if (item.index !== null && item.progress !== undefined && !this.isSettled(item.index)) {
        const fraction = item.progress === null ? {} : { fraction: item.progress };
        this.progress.set(item.index, { index: item.index, ...fraction, workerId, at: iso(now) });
      }
    }
  }

  /** The job as every reader sees it (JobInfo, as the server builds it). */
  info(): JobInfo {
    const settled = this.settledSet.size;
    return {
      id: this.jobId,
      name: this.name,
      group: this.group,
      state: this.state,
      total: this.inputs.length,
      finished: settled - this.failed,
      failed: this.failed,
      inFlight: this.running,
      queued: this.queue.length,
      computeMs: this.computeMs,
      created: iso(this.created),
      modified: iso(this.modified),
      lastResult: this.lastResult === null ? null : iso(this.lastResult),
      timeoutMs: this.timeoutMs,
      maxAttempts: this.maxAttempts,
      retryErrors: this.retryErrors,
      redundancy: 1,
      maxReplicas: 1,
      disagreements: 0,
      priority: this.priority,
      paused: null,
      setupTimeoutMs: this.setupTimeoutMs,
      progressTimeoutMs: null,
      setups: { ...this.setups },
      logs: { lines: this.logs.length, dropped: this.logsDropped },
      events: { count: this.events.length, dropped: this.eventsDropped },
      series: { bytes: 0, dropped: 0 },
      messages: this.messages.length,
      usage: { cpuMs: this.computeMs, peakHeapBytes: null },
    };
  }

  private triesOf(index: number): { attempts: number; errorRetries: number } {
    let tries = this.tries.get(index);
    if (!tries) this.tries.set(index, (tries = { attempts: 0, errorRetries: 0 }));
    return tries;
  }

  private withSeries(index: number, series: WorkerOutcome['series']): void {
    if (!series) return;
    const seq = this.outcomes.length;
    for (const { label, values } of series) {
      let items = this.series.get(label);
      if (!items) this.series.set(label, (items = []));
      items.push({ seq, index, values });
    }
  }
}

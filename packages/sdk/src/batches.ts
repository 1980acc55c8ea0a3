/**
 * Turning an iterable of tasks into submission batches, and sending those batches with a
 * bounded window of unacknowledged ones (the submit side's backpressure).
 */
import { MAX_SOCKET_ATTACHMENTS, tooManyAttachments } from '@tabgrid/protocol/attachments';
import { LIMITS } from '@tabgrid/protocol/jobs';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { assertFaithful, type ValuesMode } from '@tabgrid/protocol/faithful-json';
import { randomId } from './ids.js';

/** Anything `submit()` accepts: arrays, generators, other jobs' streams. */
export type TaskSource<T = unknown> = Iterable<T> | AsyncIterable<T>;

/** One submission batch. `offset` is the position of its first task in the source. */
export interface TaskBatch {
  batchId: string;
  offset: number;
  tasks: unknown[];
}

export interface BatchOptions {
  /** Most tasks in one batch (capped at the protocol's limit). */
  maxTasks?: number;
  /** Approximate payload size at which a batch is sent (bytes of JSON plus binary). */
  maxBytes?: number;
  /** How long a partly filled batch waits for a slow async source before it is sent (ms). */
  lingerMs?: number;
  /** Prefix of every batchId; a random one by default. */
  idPrefix?: string;
  /**
   * `'strict'` (default): a task JSON cannot carry faithfully (undefined, NaN, a Date, a Map, a
   * cycle, …) is refused with TG_ERR_UNFAITHFUL_VALUE before anything is sent. `'lossy'`:
   * converted as JSON.stringify does. The client sets it from its and the job's `values`.
   */
  values?: ValuesMode;
}

export const BATCH_DEFAULTS = { maxTasks: 1000, maxBytes: 512 * 1024, lingerMs: 10 } as const;

/**
 * Approximate wire size of a task: its JSON length, with typed arrays and ArrayBuffers
 * counted by byte length (socket.io sends those as binary attachments).
 *
 * @example
 * approxBytes({ a: 1 }); // 7
 * approxBytes(new Float64Array(1024)); // 8193
 */
export function approxBytes(value: unknown): number {
  return approxSize(value).bytes;
}

/** What a task adds to a batch: {@link approxBytes}, and its typed arrays (attachments). */
export interface TaskSize {
  bytes: number;
  attachments: number;
}

/** {@link approxBytes} and the task's attachment count, from one walk. */
export function approxSize(value: unknown): TaskSize {
  if (typeof value !== 'object' || value === null) {
    // The common case of scalar tasks, without the cost of a replacer.
    if (typeof value === 'string') return { bytes: value.length + 2, attachments: 0 };
    if (typeof value === 'number' || typeof value === 'boolean') {
      return { bytes: String(value).length, attachments: 0 };
    }
  }
  let binary = 0;
  let attachments = 0;
  let json: string | undefined;
  try {
    json = JSON.stringify(value, function (this: unknown, key: string, current: unknown) {
      // Look at the holder's value: Buffer#toJSON has already run on `current`.
      const original = (this as Record<string, unknown>)[key];
      if (original instanceof ArrayBuffer || ArrayBuffer.isView(original)) {
        binary += original.byteLength;
        attachments += 1;
        return 0;
      }
      return current;
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new TabgridError(
      ErrorCode.INVALID_TASK,
      `A task cannot be sent (${why}). Tasks must be JSON values, typed arrays or ArrayBuffers.`,
    );
  }
  return { bytes: (json?.length ?? 4) + binary, attachments };
}

const NONE: TaskBatch[] = [];

class BatchBuilder {
  private tasks: unknown[] = [];
  private bytes = 0;
  /** Typed arrays in the batch so far: one socket.io message carries MAX_SOCKET_ATTACHMENTS. */
  private attachments = 0;
  private offset = 0;
  private count = 0;
  private readonly prefix: string;
  private readonly maxTasks: number;
  private readonly maxBytes: number;
  private readonly values: ValuesMode;

  /** `checked`: every task was checked already (an array, before anything was sent). */
  constructor(
    options: BatchOptions,
    private readonly checked = false,
  ) {
    this.values = options.values ?? 'strict';
    this.prefix = options.idPrefix ?? randomId();
    this.maxTasks = Math.max(
      1,
      Math.min(options.maxTasks ?? BATCH_DEFAULTS.maxTasks, LIMITS.maxBatchTasks),
    );
    this.maxBytes = Math.max(1, options.maxBytes ?? BATCH_DEFAULTS.maxBytes);
  }

  get length(): number {
    return this.tasks.length;
  }

  /** Adds a task; returns the batches that are complete (zero, one, or two). */
  add(task: unknown): TaskBatch[] {
    let ready = NONE;
    // Before any serialization; the index is the task's position in the source.
    const index = this.offset + this.tasks.length;
    if (!this.checked) assertFaithful(task, 'tasks', index, this.values);
    const { bytes: size, attachments } = approxSize(task);
    if (attachments > MAX_SOCKET_ATTACHMENTS) throw tooManyAttachments(`tasks[${index}]`);
    if (
      this.tasks.length > 0 &&
      (this.bytes + size > this.maxBytes || this.attachments + attachments > MAX_SOCKET_ATTACHMENTS)
    ) {
      ready = [this.take()];
    }
    this.tasks.push(task);
    this.bytes += size;
    this.attachments += attachments;
    if (
      this.tasks.length >= this.maxTasks ||
      this.bytes >= this.maxBytes ||
      this.attachments >= MAX_SOCKET_ATTACHMENTS
    ) {
      ready = [...ready, this.take()];
    }
    return ready;
  }

  take(): TaskBatch {
    const batch = {
      batchId: `${this.prefix}-${this.count}`,
      offset: this.offset,
      tasks: this.tasks,
    };
    this.count += 1;
    this.offset += this.tasks.length;
    this.tasks = [];
    this.bytes = 0;
    this.attachments = 0;
    return batch;
  }
}

const LINGER = Symbol('linger');

function startLinger(ms: number): { fired: Promise<typeof LINGER>; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fired = new Promise<typeof LINGER>((resolve) => {
    timer = setTimeout(() => resolve(LINGER), ms);
  });
  return { fired, cancel: () => clearTimeout(timer) };
}

/**
 * Cuts `source` into batches of at most `maxTasks` tasks and about `maxBytes` bytes, each
 * with a unique `batchId`. The source is pulled only as fast as batches are consumed. With an
 * async source a partly filled batch is released after `lingerMs` without a new task, so a
 * slow trickle (e.g. another job's results) is not held back waiting for a full batch.
 *
 * @example
 * for await (const b of batchTasks([1, 2, 3], { maxTasks: 2 })) console.log(b.batchId, b.tasks);
 * // 'k-0' [1, 2], then 'k-1' [3]
 */
export async function* batchTasks(
  source: TaskSource,
  options: BatchOptions = {},
): AsyncGenerator<TaskBatch, void, undefined> {
  if (typeof source === 'string') {
    throw new TabgridError(
      ErrorCode.INVALID_REQUEST,
      'Tasks must be an iterable of tasks, not a string.',
    );
  }
  // An array is checked whole first, so a bad task anywhere in it sends nothing at all; other
  // sources are checked as they are pulled (batches before the bad task may have been sent).
  const whole = Array.isArray(source);
  if (whole) {
    const values = options.values ?? 'strict';
    const tasks = source as unknown[];
    for (let i = 0; i < tasks.length; i++) assertFaithful(tasks[i], 'tasks', i, values);
  }
  const builder = new BatchBuilder(options, whole);
  if (!(Symbol.asyncIterator in source)) {
    for (const task of source) {
      const ready = builder.add(task);
      if (ready.length > 0) yield* ready;
    }
    if (builder.length > 0) yield builder.take();
    return;
  }
  const lingerMs = options.lingerMs ?? BATCH_DEFAULTS.lingerMs;
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<unknown>> | undefined;
  let linger: ReturnType<typeof startLinger> | undefined;
  let exhausted = false;
  try {
    for (;;) {
      pending ??= iterator.next();
      const step = linger ? await Promise.race([pending, linger.fired]) : await pending;
      if (step === LINGER) {
        linger = undefined;
        yield builder.take(); // `pending` stays: the source is still working on its next task
        continue;
      }
      pending = undefined;
      if (step.done) {
        exhausted = true;
        break;
      }
      const ready = builder.add(step.value);
      if (ready.length > 0) {
        linger?.cancel();
        linger = undefined;
        yield* ready;
      }
      if (builder.length > 0) linger ??= startLinger(lingerMs);
    }
    linger?.cancel();
    if (builder.length > 0) yield builder.take();
  } finally {
    linger?.cancel();
    // Stopped early: let the source clean up. Not awaited, since a pending next() may
    // keep an async generator busy until it produces one more task.
    if (!exhausted) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

/**
 * Sends `batches` through `send`, keeping at most `window` sends unanswered; the next batch is
 * pulled only when there is room. Resolves with every answer once all have arrived; on the
 * first failure stops pulling, waits for the sends already under way, and rejects with it.
 * Aborting `signal` stops pulling new batches (sends under way still finish).
 *
 * @example
 * const answers = await sendWindowed(batchTasks(tasks), (b) => request('job:submit', b), 4);
 */
export async function sendWindowed<B, R>(
  batches: AsyncIterable<B>,
  send: (batch: B) => Promise<R>,
  window: number,
  signal?: AbortSignal,
): Promise<R[]> {
  const iterator = batches[Symbol.asyncIterator]();
  const inFlight = new Set<Promise<void>>();
  const answers: R[] = [];
  let failure: { error: unknown } | undefined;
  let failed!: () => void;
  const failedSignal = new Promise<'failed'>((resolve) => {
    failed = () => resolve('failed');
  });
  const fail = (error: unknown): void => {
    failure ??= { error };
    failed();
  };
  let exhausted = false;
  try {
    while (!failure && !signal?.aborted) {
      while (inFlight.size >= Math.max(1, window) && !failure) await Promise.race(inFlight);
      if (failure) break;
      const step = await Promise.race([iterator.next(), failedSignal]);
      if (step === 'failed') break;
      if (step.done) {
        exhausted = true;
        break;
      }
      const sending: Promise<void> = send(step.value).then(
        (answer) => {
          answers.push(answer);
          inFlight.delete(sending);
        },
        (error: unknown) => {
          fail(error);
          inFlight.delete(sending);
        },
      );
      inFlight.add(sending);
    }
  } catch (error) {
    exhausted = true; // the source threw: it is finished
    fail(error);
  } finally {
    if (!exhausted) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
  await Promise.all(inFlight);
  if (failure) throw failure.error;
  return answers;
}

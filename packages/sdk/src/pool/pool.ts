/**
 * `tg.pool(fn, options)`: the verbs of a process pool (`map`, `imap`, `unorderedImap`,
 * `mapAsync`, `star()`) over Tabgrid jobs. Every call is one job of its own, named after the
 * pool (on the dashboard, and `tg.latestJob(name)`), cancelled when the call is aborted, stops
 * early or fails.
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { CreateJobRequest } from '@tabgrid/protocol/jobs';
import type { TaskSource } from '../batches.js';
import type { Job } from '../job.js';
import { programSource, starProgramSource, type PoolFunction } from '../program-source.js';
import { OutcomeStream } from '../streams.js';
import { countOption } from '../streams/checks.js';
import { MapHandle } from './map-handle.js';
import { collectOrdered, orderedIterator, RangeTable } from './ordered.js';
import { PoolRun, type JobCreator, type PoolCallOptions, type PoolRunOptions } from './pool-run.js';
import { SubmitGate } from './submit-gate.js';

export type { JobCreator, PoolCallOptions } from './pool-run.js';
export type { MapHandle, WaitOptions } from './map-handle.js';

/** The job options of every job a pool creates (`name` defaults to `'pool'`). */
export type PoolOptions = Omit<CreateJobRequest, 'program'>;

/**
 * How far `imap` lets submission run ahead of the next value it hands out, by default: at most
 * this many tasks are submitted and not yet handed out, so at most this many early results wait.
 */
export const IMAP_WINDOW = 10_000;

/** Options of `pool.imap()`. */
export interface ImapOptions extends PoolCallOptions {
  /** Tasks submitted ahead of the next value handed out, at most (default {@link IMAP_WINDOW}). */
  window?: number;
}

const DEFAULT_NAME = 'pool';

/** Each task of a `star()` pool must be an array: said before it is sent, with its position. */
async function* checkedTuples(source: TaskSource): AsyncGenerator<unknown, void, undefined> {
  let position = 0;
  for await (const task of source) {
    if (!Array.isArray(task)) {
      throw new TabgridError(
        ErrorCode.INVALID_TASK,
        `tasks[${position}] is not an array: a star() pool spreads each task over Run's parameters, so send e.g. [a, b] for Run(a, b).`,
      );
    }
    yield task;
    position += 1;
  }
}

/**
 * A pool of one program. Get one from `tg.pool(fn, options)`; it holds no server state: each
 * call creates, runs and finishes a job of its own.
 *
 * @example
 * const pool = tg.pool((x: number) => x * x, { name: 'squares' });
 * console.log(await pool.map([1, 2, 3])); // [1, 4, 9]
 * for await (const v of pool.imap([4, 5])) console.log(v); // 16, then 25
 * console.log(await pool.star().map([[2, 3]])); // with (a, b) => a ** b: [8]
 */
export class Pool<T = unknown> {
  private readonly source: string;

  constructor(
    private readonly creator: JobCreator,
    private readonly program: string | PoolFunction<T>,
    private readonly options: PoolOptions = {},
    private readonly starred = false,
  ) {
    // Checked now: a program without source fails at tg.pool(), not at the first call.
    this.source = starred
      ? starProgramSource(program, options.args !== undefined)
      : programSource(program);
  }

  /**
   * The values of every task, in input order. Rejects at the first failed task with a
   * `TaskFailedError` (and cancels the job), with a `JobCancelledError` if the job is cancelled
   * or `signal` aborted.
   *
   * @example
   * const squares = await pool.map([1, 2, 3]); // [1, 4, 9]
   */
  map(tasks: TaskSource, options: PoolCallOptions = {}): Promise<T[]> {
    return this.collect(tasks, options);
  }

  /**
   * The values in input order, each as soon as every earlier one is out. Submission stays at
   * most `window` (default 10,000) tasks ahead of the next value handed out: a slow early task
   * holds submission back instead of letting early results pile up in memory. Breaking out of
   * the loop cancels the job; a failed task throws a `TaskFailedError` at its place.
   *
   * @example
   * for await (const v of pool.imap(inputs(), { window: 1_000 })) write(v);
   */
  imap(tasks: TaskSource, options: ImapOptions = {}): OutcomeStream<T> {
    const window = countOption('imap(tasks, { window })', options.window ?? IMAP_WINDOW, 1);
    return new OutcomeStream<T>(() => {
      const gate = new SubmitGate(window);
      const ranges = new RangeTable();
      const run = this.start(gate.gated(this.tasksOf(tasks)), options, {
        onRange: (range) => ranges.add(range),
        onFinish: () => gate.close(),
      });
      return orderedIterator(run, ranges, gate);
    });
  }

  /**
   * The values as tasks finish, in no particular order: `job.run()` with each outcome turned
   * into its value (a failed task throws a `TaskFailedError`; breaking out cancels the job).
   *
   * @example
   * for await (const v of pool.unorderedImap(inputs)) total += v;
   */
  unorderedImap(tasks: TaskSource, options: PoolCallOptions = {}): OutcomeStream<T> {
    return new OutcomeStream<T>(() => {
      const run = this.start(this.tasksOf(tasks), options);
      return {
        async next(): Promise<IteratorResult<T, undefined>> {
          const step = await run.next();
          return step.done ? step : { done: false, value: step.value.value };
        },
        return: () => run.return(),
      };
    });
  }

  /**
   * Starts `map` and returns a handle at once: `ready()`, `await wait({ timeoutMs })`,
   * `await get({ timeoutMs })` (rejects with `TG_ERR_WAIT_TIMEOUT` when the time runs out; the
   * job goes on), `cancel()`, `job()`.
   *
   * @example
   * const h = pool.mapAsync(inputs);
   * await h.wait();
   * const values = await h.get({ timeoutMs: 1_000 });
   */
  mapAsync(tasks: TaskSource, options: PoolCallOptions = {}): MapHandle<T> {
    const abort = new AbortController();
    const onAbort = (): void => abort.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    let gotJob!: (job: Job<T>) => void;
    let noJob!: (error: unknown) => void;
    const jobPromise = new Promise<Job<T>>((resolve, reject) => {
      gotJob = resolve;
      noJob = reject;
    });
    jobPromise.catch(() => undefined);
    const result = this.collect(tasks, { signal: abort.signal }, gotJob);
    // Settled once the call is: a call that failed before its job existed has none.
    result.then(
      () => options.signal?.removeEventListener('abort', onAbort),
      (error: unknown) => {
        options.signal?.removeEventListener('abort', onAbort);
        noJob(error);
      },
    );
    return new MapHandle<T>(result, jobPromise, abort);
  }

  /**
   * The same pool with each task spread over `Run`'s parameters: task `[1, 2]` runs
   * `Run(1, 2)`. If the pool has `args`, they come after the task's elements:
   * `Run(1, 2, args)`; without `args` nothing is added, so rest parameters see only the task.
   * Every task must be an array (else `TG_ERR_INVALID_TASK`, before it is sent).
   *
   * @example
   * const pow = tg.pool((a: number, b: number) => a ** b, { name: 'pow' });
   * await pow.star().map([[2, 3], [3, 2]]); // [8, 9]
   */
  star(): Pool<T> {
    return new Pool<T>(this.creator, this.program, this.options, true);
  }

  private tasksOf(tasks: TaskSource): TaskSource {
    return this.starred ? checkedTuples(tasks) : tasks;
  }

  private start(
    tasks: TaskSource,
    options: PoolCallOptions,
    hooks: Omit<PoolRunOptions<T>, 'signal'> = {},
  ): PoolRun<T> {
    return new PoolRun<T>(
      this.creator,
      { ...this.options, name: this.options.name ?? DEFAULT_NAME, program: this.source },
      tasks,
      { ...hooks, ...(options.signal ? { signal: options.signal } : {}) },
    );
  }

  private collect(
    tasks: TaskSource,
    options: PoolCallOptions,
    onJob?: (job: Job<T>) => void,
  ): Promise<T[]> {
    const ranges = new RangeTable();
    const run = this.start(this.tasksOf(tasks), options, {
      onRange: (range) => ranges.add(range),
      ...(onJob ? { onJob } : {}),
    });
    return collectOrdered(run, ranges);
  }
}

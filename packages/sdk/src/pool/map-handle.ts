/**
 * `pool.mapAsync()`'s handle: the call runs at once, and the handle says whether it is done and
 * gives its values, with or without a time limit (Python's `AsyncResult`).
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { Job } from '../job.js';
import { msOption } from '../streams/checks.js';

/** Options of {@link MapHandle.wait} and {@link MapHandle.get}. */
export interface WaitOptions {
  /** Longest wait (ms); absent: as long as the job takes. */
  timeoutMs?: number;
}

const TIMED_OUT = Symbol('timed out');

/** `promise`, or TIMED_OUT once `timeoutMs` has passed. */
async function within<T>(
  promise: Promise<T>,
  timeoutMs: number | undefined,
): Promise<T | typeof TIMED_OUT> {
  if (timeoutMs === undefined) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A `pool.mapAsync()` call under way. Its job is already submitting; `get()` resolves with the
 * values in input order (or rejects as `pool.map` does), `wait()` only waits, `ready()` says
 * whether it has finished, `cancel()` stops it.
 *
 * @example
 * const h = pool.mapAsync(inputs);
 * if (!h.ready()) await h.wait({ timeoutMs: 5_000 });
 * const values = await h.get({ timeoutMs: 60_000 });
 */
export class MapHandle<T> {
  private state: 'running' | 'fulfilled' | 'rejected' = 'running';
  private readonly settled: Promise<void>;

  constructor(
    private readonly result: Promise<T[]>,
    private readonly jobPromise: Promise<Job<T>>,
    private readonly abort: AbortController,
  ) {
    // Observed here, so a handle nobody calls get() on never raises an unhandled rejection.
    this.settled = result.then(
      () => {
        this.state = 'fulfilled';
      },
      () => {
        this.state = 'rejected';
      },
    );
  }

  /** True once the call has finished, successfully or not. */
  ready(): boolean {
    return this.state !== 'running';
  }

  /** True if it finished with every value; throws `TG_ERR_INVALID_REQUEST` while running. */
  successful(): boolean {
    if (this.state === 'running') {
      throw new TabgridError(
        ErrorCode.INVALID_REQUEST,
        'successful() of a mapAsync call that is still running: check ready() or await wait() first.',
      );
    }
    return this.state === 'fulfilled';
  }

  /**
   * Waits until the call has finished (never rejects: `get()` gives the outcome), or `timeoutMs`
   * has passed; resolves with `ready()`.
   */
  async wait(options: WaitOptions = {}): Promise<boolean> {
    await within(this.settled, msOption('wait({ timeoutMs })', options.timeoutMs));
    return this.ready();
  }

  /**
   * The values in input order. Rejects as `pool.map` does (`TaskFailedError`,
   * `JobCancelledError`), and with `TG_ERR_WAIT_TIMEOUT` if `timeoutMs` passes first: the job
   * goes on, so `get()` may be called again (or `cancel()`).
   */
  async get(options: WaitOptions = {}): Promise<T[]> {
    const got = await within(this.result, msOption('get({ timeoutMs })', options.timeoutMs));
    if (got !== TIMED_OUT) return got;
    const job = await within(this.jobPromise, 0);
    const which = job === TIMED_OUT ? 'its job is still being created' : `job ${job.id} is running`;
    throw new TabgridError(
      ErrorCode.WAIT_TIMEOUT,
      `mapAsync().get() waited ${options.timeoutMs} ms and the call has not finished (${which}). Call get() again to wait more, or cancel() to stop it.`,
    );
  }

  /** The call's job, once created. */
  job(): Promise<Job<T>> {
    return this.jobPromise;
  }

  /** Cancels the call's job; `get()` then rejects with a `JobCancelledError` (`aborted`). */
  async cancel(): Promise<void> {
    this.abort.abort(new Error('mapAsync().cancel()'));
    await this.settled;
  }
}

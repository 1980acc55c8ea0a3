/**
 * The async-iterable machinery behind every outcome stream: a local buffer that applies
 * backpressure to the server ({@link BufferedStream}) and the public, chainable
 * {@link OutcomeStream} wrapper.
 */

import { countOption, msOption } from './streams/checks.js';
import { batchIterator, filterIterator, mapIterator, takeIterator } from './streams/operators.js';

/** Items buffered locally before the SDK stops acknowledging server pushes. */
export const DEFAULT_HIGH_WATER_MARK = 10_000;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

interface Waiter<T> {
  resolve: (result: IteratorResult<T, undefined>) => void;
  reject: (error: Error) => void;
}

export interface BufferedStreamOptions {
  /** Acks of pushes are withheld while this many items (or more) wait to be consumed. */
  highWaterMark?: number;
  /** Called once when the consumer stops early (`return()`), e.g. to unsubscribe. */
  onReturn?: () => void;
}

/**
 * An async iterator fed by pushes. Each push carries an `ack` that is called at once while the
 * buffer is below its high-water mark, and otherwise only once the consumer has drained it
 * below the mark: a slow consumer therefore slows the producer down instead of growing memory.
 *
 * @example
 * const stream = new BufferedStream<number>({ highWaterMark: 100 });
 * socket.on('job:outcomes', (push, ack) => stream.push(push.items, ack));
 * socket.on('job:end', () => stream.end());
 * for await (const item of { [Symbol.asyncIterator]: () => stream }) console.log(item);
 */
export class BufferedStream<T> implements AsyncIterator<T, undefined> {
  private items: T[] = [];
  private head = 0;
  private readonly waiters: Waiter<T>[] = [];
  private pendingAcks: (() => void)[] = [];
  private ended = false;
  /** Thrown once the buffered items are consumed, for a stream that ended abnormally. */
  private endError: Error | undefined;
  private failure: { error: Error } | undefined;
  private returned = false;
  private readonly highWaterMark: number;
  private readonly onReturn: (() => void) | undefined;

  constructor(options: BufferedStreamOptions = {}) {
    this.highWaterMark = Math.max(1, options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK);
    this.onReturn = options.onReturn;
  }

  /** Items waiting to be consumed. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** True once the stream will deliver nothing more than what it has buffered. */
  get finished(): boolean {
    return this.ended || this.returned || this.failure !== undefined;
  }

  /** Adds items; `ack` is called now if there is room, else once the consumer makes room. */
  push(items: readonly T[], ack?: () => void): void {
    if (this.finished) {
      // Nobody will read these; acknowledging keeps the producer from waiting on us forever.
      ack?.();
      return;
    }
    for (const item of items) {
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve({ done: false, value: item });
      else this.items.push(item);
    }
    if (ack) this.pendingAcks.push(ack);
    // Acknowledged after the consumer has run: on an idle grid the consumer's next request
    // (say, the next task) then goes out first and the flow-control ack trails it.
    queueMicrotask(() => this.releaseAcks());
  }

  /**
   * No more pushes: the iterator finishes once the buffered items are consumed, then throws
   * `error` if one is given (a job cancelled mid-stream: what arrived is still delivered).
   */
  end(error?: Error): void {
    if (this.finished) return;
    this.ended = true;
    this.endError = error;
    this.pendingAcks = [];
    if (this.size === 0) this.settleWaiters();
  }

  /** Fails the stream: the next `next()` throws `error`; buffered items are discarded. */
  fail(error: unknown): void {
    if (this.finished) return;
    this.failure = { error: error instanceof Error ? error : new Error(String(error)) };
    this.clear();
    this.settleWaiters();
  }

  /**
   * Forgets acks that are still withheld. Needed after a disconnect: an ack belongs to the
   * connection that carried the push, and calling it on a new connection would acknowledge
   * an unrelated message there.
   */
  dropPendingAcks(): void {
    this.pendingAcks = [];
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.size > 0) {
      const value = this.items[this.head] as T;
      this.head += 1;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      this.releaseAcks();
      return Promise.resolve({ done: false, value });
    }
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.endError && !this.returned) return Promise.reject(this.endError);
    if (this.ended || this.returned) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The consumer is done (e.g. `break` in a for-await): drop everything, tell the producer. */
  return(): Promise<IteratorResult<T, undefined>> {
    const wasLive = !this.finished;
    this.returned = true;
    this.failure = undefined;
    this.clear();
    this.settleWaiters();
    if (wasLive) this.onReturn?.();
    return Promise.resolve(DONE);
  }

  private releaseAcks(): void {
    if (this.pendingAcks.length === 0 || this.size >= this.highWaterMark) return;
    const acks = this.pendingAcks;
    this.pendingAcks = [];
    for (const ack of acks) ack();
  }

  private clear(): void {
    this.items = [];
    this.head = 0;
    this.pendingAcks = [];
  }

  private settleWaiters(): void {
    const error = this.failure?.error ?? (this.returned ? undefined : this.endError);
    for (const waiter of this.waiters.splice(0)) {
      if (error) waiter.reject(error);
      else waiter.resolve(DONE);
    }
  }
}

/**
 * A stream of settled outcomes (what `job.run()`, `job.results()` and `job.errors()` return).
 * Iterate it once with `for await`; breaking out of the loop unsubscribes. Nothing is
 * requested from the server until iteration starts.
 *
 * `.map(fn)`, `.filter(keep)`, `.take(count)` and `.batch(size)` each return another stream,
 * which makes chaining one job's output into another job's input a one-liner. A stream of a
 * job that is cancelled or deleted before it finished throws a `JobCancelledError`
 * (code `TG_ERR_JOB_CANCELLED`) after the outcomes that did arrive.
 *
 * @example
 * // Feed every result of `first` into `second` as it arrives, with backpressure end to end.
 * await second.submit(first.results().map((r) => r.value));
 * await second.close();
 *
 * @example
 * for await (const o of second.run(first.results().map((r) => r.value))) {
 *   console.log(o.index, o.ok ? o.value : o.error.message);
 * }
 */
export class OutcomeStream<T> implements AsyncIterable<T> {
  private used = false;

  /** @param open starts the underlying stream; called on the first iteration only. */
  constructor(private readonly open: () => AsyncIterator<T, undefined>) {}

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    if (this.used) {
      throw new Error(
        'This stream has already been iterated; ask the job for a new one (e.g. job.results()).',
      );
    }
    this.used = true;
    return this.open();
  }

  /**
   * A stream of `fn(item)` for every item, in arrival order. `fn` may be async; an error it
   * throws ends the stream (and unsubscribes) and surfaces from the loop.
   *
   * @example
   * const doubled = job.results().map((r) => r.value * 2);
   * for await (const v of doubled) console.log(v);
   */
  map<U>(fn: (item: T) => U | PromiseLike<U>): OutcomeStream<U> {
    return new OutcomeStream<U>(() => mapIterator(this[Symbol.asyncIterator](), fn));
  }

  /**
   * The items for which `keep(item)` is true, in arrival order. `keep` may be async; an error
   * it throws ends the stream (and unsubscribes) and surfaces from the loop.
   *
   * @example
   * for await (const r of job.results().filter((r) => r.value > 0.9)) console.log(r.index);
   */
  filter(keep: (item: T) => boolean | PromiseLike<boolean>): OutcomeStream<T> {
    return new OutcomeStream<T>(() => filterIterator(this[Symbol.asyncIterator](), keep));
  }

  /**
   * The first `count` items, then the end: the subscription underneath is stopped as the last
   * one is handed out (the job itself goes on; cancel it if you no longer need it).
   *
   * @example
   * const firstTen = [];
   * for await (const r of job.results().take(10)) firstTen.push(r.value);
   */
  take(count: number): OutcomeStream<T> {
    const n = countOption('take(count)', count, 0);
    return new OutcomeStream<T>(() => takeIterator(() => this[Symbol.asyncIterator](), n));
  }

  /**
   * Arrays of up to `size` items in arrival order (the last may be shorter). With
   * `{ maxWaitMs }` a partly filled array is handed out once no item came for that long, so a
   * slow trickle is not held back.
   *
   * @example
   * for await (const rows of job.results().batch(500, { maxWaitMs: 1000 })) await db.insert(rows);
   */
  batch(size: number, options: { maxWaitMs?: number } = {}): OutcomeStream<T[]> {
    const n = countOption('batch(size)', size, 1);
    const maxWaitMs = msOption('batch(size, { maxWaitMs })', options.maxWaitMs);
    return new OutcomeStream<T[]>(() => batchIterator(this[Symbol.asyncIterator](), n, maxWaitMs));
  }
}

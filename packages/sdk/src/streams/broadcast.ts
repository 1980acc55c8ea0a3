/**
 * `broadcast(source, ...consumers)`: one stream read once and handed to several consumers, each
 * seeing every item in order. The source is pulled only as fast as the slowest consumer reads,
 * with at most a bounded buffer between the fastest and the slowest: memory stays bounded
 * whatever the speeds.
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { countOption } from './checks.js';

/** Items the fastest consumer may be ahead of the slowest, by default. */
export const BROADCAST_BUFFER = 1_000;

/** A consumer: gets its own stream of every item and returns (or resolves with) its result. */
export type Consumer<T, R = unknown> = (items: AsyncIterable<T>) => R | PromiseLike<R>;

/** What `broadcast` resolves with: each consumer's result, in order. */
export type BroadcastResults<C extends readonly Consumer<never>[]> = {
  -readonly [K in keyof C]: Awaited<ReturnType<C[K]>>;
};

export interface BroadcastOptions {
  /** Items the fastest consumer may be ahead of the slowest (default 1,000, at least 1). */
  buffer?: number;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

interface Branch {
  position: number;
  active: boolean;
}

/** The shared state: buffered items and every consumer's position in them. */
class Hub<T> {
  private items: T[] = [];
  /** Absolute position of `items[0]`. */
  private start = 0;
  private readonly branches: Branch[] = [];
  private readonly iterator: AsyncIterator<T> | Iterator<T>;
  private pulling: Promise<void> | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  private changed: Promise<void> | undefined;

  constructor(
    source: AsyncIterable<T> | Iterable<T>,
    private readonly buffer: number,
  ) {
    this.iterator =
      Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  }

  branch(): Branch {
    const branch = { position: 0, active: true };
    this.branches.push(branch);
    return branch;
  }

  /** The next item for `branch`, pulling from the source when the buffer allows. */
  async next(branch: Branch): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      if (!branch.active) return DONE;
      const end = this.start + this.items.length;
      if (branch.position < end) {
        const value = this.items[branch.position - this.start] as T;
        branch.position += 1;
        this.trim();
        return { done: false, value };
      }
      if (this.ended) return DONE;
      if (end - this.slowest() < this.buffer) await (this.pulling ??= this.pull());
      else await this.nextChange(); // the slowest must read first
    }
  }

  /** A consumer stopped (broke out, returned, or finished): it no longer paces the others. */
  detach(branch: Branch): void {
    if (!branch.active) return;
    branch.active = false;
    if (this.branches.every((b) => !b.active) && !this.ended) this.stopSource();
    this.trim();
    this.notify();
  }

  /** A consumer failed: every other one fails with the same error, and the source stops. */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.items = [];
    if (!this.ended) this.stopSource();
    this.notify();
  }

  private async pull(): Promise<void> {
    try {
      const step = await this.iterator.next();
      if (step.done) this.ended = true;
      else this.items.push(step.value);
    } catch (error) {
      this.ended = true; // the source threw: it is finished
      this.fail(error);
    } finally {
      this.pulling = undefined;
      this.notify();
    }
  }

  private stopSource(): void {
    this.ended = true;
    void Promise.resolve(this.iterator.return?.()).catch(() => undefined);
  }

  private slowest(): number {
    let min = Infinity;
    for (const b of this.branches) if (b.active && b.position < min) min = b.position;
    return min === Infinity ? this.start + this.items.length : min;
  }

  /** Drops the items every active consumer has read. */
  private trim(): void {
    const drop = this.slowest() - this.start;
    if (drop <= 0) return;
    this.items.splice(0, drop);
    this.start += drop;
    this.notify();
  }

  private nextChange(): Promise<void> {
    this.changed ??= new Promise((resolve) => {
      this.wake = resolve;
    });
    return this.changed;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    this.changed = undefined;
    wake?.();
  }
}

/**
 * {@link broadcast} with options (`buffer`: how far the fastest consumer may run ahead).
 *
 * @example
 * await broadcastWith({ buffer: 100 }, job.results(), save, plot);
 */
export async function broadcastWith<T, C extends readonly Consumer<T>[]>(
  options: BroadcastOptions,
  source: AsyncIterable<T> | Iterable<T>,
  ...consumers: C
): Promise<BroadcastResults<C>> {
  if (consumers.length === 0) {
    throw new TabgridError(
      ErrorCode.INVALID_REQUEST,
      'broadcast(source, ...consumers) needs at least one consumer function.',
    );
  }
  const buffer = countOption('broadcastWith({ buffer })', options.buffer ?? BROADCAST_BUFFER, 1);
  const hub = new Hub<T>(source, buffer);
  const branches = consumers.map(() => hub.branch());
  const runs = consumers.map(async (consume, i) => {
    const branch = branches[i] as Branch;
    const items: AsyncIterable<T> = {
      [Symbol.asyncIterator]: () => ({
        next: () => hub.next(branch),
        return: () => {
          hub.detach(branch);
          return Promise.resolve(DONE);
        },
      }),
    };
    try {
      return await consume(items);
    } catch (error) {
      hub.fail(error);
      throw error;
    } finally {
      // Done reading, whether or not it read everything: it no longer holds the others back.
      hub.detach(branch);
    }
  });
  const settled = await Promise.allSettled(runs);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as BroadcastResults<C>;
}

/**
 * Reads `source` once and gives every consumer all of its items, in order, each through its
 * own async iterable; resolves with the consumers' results. Paced by the slowest consumer: the
 * fastest runs at most 1,000 items ahead (`broadcastWith({ buffer })` to change it). A consumer
 * that stops early no longer paces the others; one that throws stops them all, the source too,
 * and `broadcast` rejects with its error. When every consumer has stopped, the source is
 * stopped (a job stream unsubscribes).
 *
 * @example
 * const [count, best] = await broadcast(
 *   job.results().map((r) => r.value),
 *   async (values) => { let n = 0; for await (const _ of values) n++; return n; },
 *   async (values) => { let m = -Infinity; for await (const v of values) m = Math.max(m, v); return m; },
 * );
 */
export function broadcast<T, C extends readonly Consumer<T>[]>(
  source: AsyncIterable<T> | Iterable<T>,
  ...consumers: C
): Promise<BroadcastResults<C>> {
  return broadcastWith({}, source, ...consumers);
}

/**
 * The operators of OutcomeStream (map, filter, take, batch) and the end of a stream whose job
 * was cancelled: what each yields, and that an early stop reaches the source (the subscription).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BufferedStream, OutcomeStream } from './streams.js';

/** A stream over a BufferedStream, with what its source saw. */
function source(items: number[], options: { end?: boolean } = {}) {
  const onReturn = vi.fn();
  const raw = new BufferedStream<number>({ onReturn });
  raw.push(items);
  if (options.end !== false) raw.end();
  let opened = 0;
  const stream = new OutcomeStream<number>(() => {
    opened += 1;
    return raw;
  });
  return { stream, raw, onReturn, opened: () => opened };
}

async function all<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('OutcomeStream.filter', () => {
  it('keeps the items the predicate accepts, sync or async, in order', async () => {
    const { stream } = source([1, 2, 3, 4, 5, 6]);
    expect(await all(stream.filter((n) => n % 2 === 0))).toEqual([2, 4, 6]);
    const other = source([1, 2, 3]);
    expect(await all(other.stream.filter(async (n) => Promise.resolve(n > 1)))).toEqual([2, 3]);
  });

  it('stops the source when the predicate throws, and throws its error', async () => {
    const { stream, onReturn } = source([1, 2, 3], { end: false });
    const filtered = stream.filter((n) => {
      if (n === 2) throw new Error('bad item');
      return true;
    });
    await expect(all(filtered)).rejects.toThrow('bad item');
    expect(onReturn).toHaveBeenCalledTimes(1);
  });
});

describe('OutcomeStream.take', () => {
  it('yields the first n and stops the source as the last is handed out', async () => {
    const { stream, onReturn } = source([1, 2, 3, 4], { end: false });
    const iterator = stream.take(2)[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: 1 });
    expect(onReturn).not.toHaveBeenCalled();
    expect(await iterator.next()).toEqual({ done: false, value: 2 });
    // Stopped now, not when the consumer asks for a third.
    expect(onReturn).toHaveBeenCalledTimes(1);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('take(0) never opens the source; a shorter source just ends', async () => {
    const zero = source([1]);
    expect(await all(zero.stream.take(0))).toEqual([]);
    expect(zero.opened()).toBe(0);
    const short = source([1, 2]);
    expect(await all(short.stream.take(5))).toEqual([1, 2]);
  });

  it('chains with map and filter', async () => {
    const { stream, onReturn } = source([1, 2, 3, 4, 5, 6, 7], { end: false });
    const out = await all(
      stream
        .filter((n) => n % 2 === 1)
        .map((n) => n * 10)
        .take(3),
    );
    expect(out).toEqual([10, 30, 50]);
    expect(onReturn).toHaveBeenCalledTimes(1);
  });
});

describe('OutcomeStream.batch', () => {
  it('groups items into arrays of up to size, the last one shorter', async () => {
    const { stream } = source([1, 2, 3, 4, 5]);
    expect(await all(stream.batch(2))).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('with maxWaitMs hands out a partial batch when no item comes in time', async () => {
    vi.useFakeTimers();
    const raw = new BufferedStream<number>();
    const batches = new OutcomeStream<number>(() => raw).batch(10, { maxWaitMs: 1000 });
    const iterator = batches[Symbol.asyncIterator]();
    raw.push([1, 2]);
    const first = iterator.next();
    await vi.advanceTimersByTimeAsync(999);
    let settled = false;
    void first.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await first).toEqual({ done: false, value: [1, 2] });
    // The next() that was waiting when time ran out is kept: nothing is lost.
    const second = iterator.next();
    raw.push([3]);
    raw.end();
    expect(await second).toEqual({ done: false, value: [3] });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('passes return() on to the source', async () => {
    const { stream, onReturn } = source([1, 2, 3], { end: false });
    for await (const rows of stream.batch(2)) {
      expect(rows).toEqual([1, 2]);
      break;
    }
    expect(onReturn).toHaveBeenCalledTimes(1);
  });
});

describe('BufferedStream.end(error): a stream of a job that ended unfinished', () => {
  it('delivers what was buffered, then throws the error (also to a waiting consumer)', async () => {
    const stream = new BufferedStream<number>();
    stream.push([1, 2]);
    const cancelled = new Error('cancelled');
    stream.end(cancelled);
    expect(await stream.next()).toEqual({ done: false, value: 1 });
    expect(await stream.next()).toEqual({ done: false, value: 2 });
    await expect(stream.next()).rejects.toBe(cancelled);

    const waiting = new BufferedStream<number>();
    const pending = waiting.next();
    waiting.end(cancelled);
    await expect(pending).rejects.toBe(cancelled);
  });

  it('does not throw after the consumer stopped', async () => {
    const stream = new BufferedStream<number>();
    await stream.return();
    stream.end(new Error('cancelled'));
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });
});

describe('sizes are bounded before anything runs', () => {
  it('take, batch and maxWaitMs refuse what would stall or never stop', () => {
    const { stream } = source([1]);
    expect(() => stream.take(Number.NaN)).toThrow(/take\(count\) must be an integer ≥ 0, got NaN/);
    expect(() => stream.take(-1)).toThrow(/take\(count\)/);
    expect(() => stream.batch(0)).toThrow(/batch\(size\) must be an integer ≥ 1, got 0/);
    expect(() => stream.batch(2.5)).toThrow(/batch\(size\)/);
    expect(() => stream.batch(2, { maxWaitMs: Number.POSITIVE_INFINITY })).toThrow(/maxWaitMs/);
  });
});

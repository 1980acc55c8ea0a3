import { describe, expect, it, vi } from 'vitest';
import { BufferedStream, OutcomeStream } from './streams.js';

function iterable<T>(iterator: AsyncIterator<T, undefined>): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => iterator };
}

async function take<T>(iterator: AsyncIterator<T, undefined>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += 1) {
    const step = await iterator.next();
    if (step.done) break;
    out.push(step.value);
  }
  return out;
}

describe('BufferedStream', () => {
  it('acknowledges a push right after the current task while below the high-water mark', async () => {
    const stream = new BufferedStream<number>({ highWaterMark: 5 });
    const ack = vi.fn();
    stream.push([1, 2, 3], ack);
    expect(ack).not.toHaveBeenCalled(); // the consumer gets to run first
    await Promise.resolve();
    expect(ack).toHaveBeenCalledTimes(1);
    expect(stream.size).toBe(3);
  });

  it('lets a waiting consumer act before the ack goes out', async () => {
    const stream = new BufferedStream<number>();
    const order: string[] = [];
    const consumed = stream.next().then(() => order.push('consumer'));
    stream.push([1], () => order.push('ack'));
    await consumed;
    await Promise.resolve();
    expect(order).toEqual(['consumer', 'ack']);
  });

  it('withholds the ack at the high-water mark and releases it once the consumer drains below', async () => {
    const stream = new BufferedStream<number>({ highWaterMark: 3 });
    const first = vi.fn();
    const second = vi.fn();
    stream.push([1, 2], first);
    await Promise.resolve();
    expect(first).toHaveBeenCalledTimes(1);
    stream.push([3, 4], second);
    await Promise.resolve();
    expect(second).not.toHaveBeenCalled(); // 4 buffered ≥ 3
    await stream.next(); // 3 left: still at the mark
    expect(second).not.toHaveBeenCalled();
    await stream.next(); // 2 left: room again
    expect(second).toHaveBeenCalledTimes(1);
    await take(stream, 2);
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('hands pushed items straight to a waiting consumer', async () => {
    const stream = new BufferedStream<string>({ highWaterMark: 1 });
    const pending = stream.next();
    const ack = vi.fn();
    stream.push(['a'], ack);
    await expect(pending).resolves.toEqual({ done: false, value: 'a' });
    expect(ack).toHaveBeenCalledTimes(1);
  });

  it('ends only after the buffered items are consumed', async () => {
    const stream = new BufferedStream<number>();
    stream.push([1, 2]);
    stream.end();
    const seen: number[] = [];
    for await (const n of iterable(stream)) seen.push(n);
    expect(seen).toEqual([1, 2]);
    await expect(stream.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('finishes a waiting consumer on end', async () => {
    const stream = new BufferedStream<number>();
    const pending = stream.next();
    stream.end();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
  });

  it('return() drops the buffer, calls onReturn once, and acknowledges later pushes', async () => {
    const onReturn = vi.fn();
    const stream = new BufferedStream<number>({ highWaterMark: 1, onReturn });
    const withheld = vi.fn();
    stream.push([1, 2], withheld);
    expect(withheld).not.toHaveBeenCalled();
    for await (const n of iterable(stream)) {
      expect(n).toBe(1);
      break; // for-await calls return()
    }
    expect(onReturn).toHaveBeenCalledTimes(1);
    expect(stream.size).toBe(0);
    expect(withheld).not.toHaveBeenCalled(); // the consumer is gone; nothing to make room for
    const late = vi.fn();
    stream.push([3], late);
    expect(late).toHaveBeenCalledTimes(1);
    await stream.return();
    expect(onReturn).toHaveBeenCalledTimes(1);
    await expect(stream.next()).resolves.toMatchObject({ done: true });
  });

  it('does not call onReturn when the stream had already ended', async () => {
    const onReturn = vi.fn();
    const stream = new BufferedStream<number>({ onReturn });
    stream.push([1, 2]);
    stream.end();
    await stream.next();
    await stream.return();
    expect(onReturn).not.toHaveBeenCalled();
  });

  it('fail() rejects a waiting consumer and the next pull, discarding the buffer', async () => {
    const waiting = new BufferedStream<number>();
    const pending = waiting.next();
    waiting.fail(new Error('boom'));
    await expect(pending).rejects.toThrow('boom');

    const buffered = new BufferedStream<number>();
    buffered.push([1, 2]);
    buffered.fail(new Error('later'));
    await expect(buffered.next()).rejects.toThrow('later');
  });

  it('never calls an ack dropped after a disconnect', async () => {
    const stream = new BufferedStream<number>({ highWaterMark: 1 });
    const ack = vi.fn();
    stream.push([1, 2], ack);
    stream.dropPendingAcks();
    await take(stream, 2);
    expect(ack).not.toHaveBeenCalled();
  });
});

describe('OutcomeStream', () => {
  function sourceOf(items: number[]) {
    const onReturn = vi.fn();
    const stream = new BufferedStream<number>({ onReturn });
    stream.push(items);
    stream.end();
    return { open: vi.fn(() => stream), onReturn, stream };
  }

  it('opens its source lazily and only once', async () => {
    const { open } = sourceOf([1]);
    const outcomes = new OutcomeStream(open);
    expect(open).not.toHaveBeenCalled();
    const seen: number[] = [];
    for await (const n of outcomes) seen.push(n);
    expect(seen).toEqual([1]);
    expect(open).toHaveBeenCalledTimes(1);
    expect(() => outcomes[Symbol.asyncIterator]()).toThrow(/already been iterated/);
  });

  it('map() transforms each item, also with an async function, and chains', async () => {
    const { open } = sourceOf([1, 2, 3]);
    const mapped = new OutcomeStream(open).map((n) => Promise.resolve(n * 10)).map((n) => `#${n}`);
    const seen: string[] = [];
    for await (const s of mapped) seen.push(s);
    expect(seen).toEqual(['#10', '#20', '#30']);
  });

  it('breaking out of a mapped stream returns the source (unsubscribes)', async () => {
    const onReturn = vi.fn();
    const live = new BufferedStream<number>({ onReturn });
    live.push([1, 2, 3]); // not ended: like a live subscription
    for await (const n of new OutcomeStream(() => live).map((x) => x + 1)) {
      expect(n).toBe(2);
      break;
    }
    expect(onReturn).toHaveBeenCalledTimes(1);
  });

  it('an error thrown by the map function ends the source and surfaces from the loop', async () => {
    const onReturn = vi.fn();
    const live = new BufferedStream<number>({ onReturn });
    live.push([1, 2]);
    const mapped = new OutcomeStream(() => live).map((n) => {
      if (n === 2) throw new Error('bad item');
      return n;
    });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const n of mapped) seen.push(n);
      })(),
    ).rejects.toThrow('bad item');
    expect(seen).toEqual([1]);
    expect(onReturn).toHaveBeenCalledTimes(1);
  });
});

/**
 * broadcast(source, ...consumers): every consumer sees every item in order, the source is read
 * once and paced by the slowest consumer within the buffer, early stops and failures.
 */
import { describe, expect, it } from 'vitest';
import { broadcast, broadcastWith } from './streams/broadcast.js';
import { BufferedStream, OutcomeStream } from './streams.js';

/** An async source that counts how many items were pulled from it. */
function counted(total: number) {
  const state = { pulled: 0, returned: false };
  async function* gen() {
    try {
      for (let i = 0; i < total; i++) {
        await Promise.resolve(); // an async source, as a job's stream is
        state.pulled = i + 1;
        yield i;
      }
    } finally {
      state.returned = true;
    }
  }
  return { source: gen(), state };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A gate a consumer waits on; `open()` lets it go. */
function latch() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('broadcast', () => {
  it('gives three consumers every item in order and resolves with their results', async () => {
    const { source, state } = counted(2_500);
    const [a, b, c] = await broadcast(
      source,
      collect,
      async (items) => {
        let sum = 0;
        for await (const n of items) sum += n;
        return sum;
      },
      async (items) => (await collect(items)).length,
    );
    expect(a).toEqual(Array.from({ length: 2_500 }, (_, i) => i));
    expect(b).toBe((2_499 * 2_500) / 2);
    expect(c).toBe(2_500);
    expect(state.pulled).toBe(2_500); // read once, not once per consumer
  });

  it('is paced by the slowest consumer: the fastest is never more than the buffer ahead', async () => {
    const { source, state } = counted(100);
    const hold = latch();
    const fastSeen: number[] = [];
    let maxAhead = 0;
    let slowAt = 0;
    const done = broadcastWith(
      { buffer: 10 },
      source,
      async (items) => {
        for await (const n of items) {
          fastSeen.push(n);
          maxAhead = Math.max(maxAhead, state.pulled - slowAt);
        }
      },
      async (items) => {
        await hold.opened;
        for await (const n of items) slowAt = n + 1;
      },
    );
    // Let the fast consumer run as far as it can while the slow one reads nothing.
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(fastSeen).toHaveLength(10);
    expect(state.pulled).toBe(10);
    hold.open();
    await done;
    expect(fastSeen).toHaveLength(100);
    expect(maxAhead).toBeLessThanOrEqual(10);
  });

  it('a consumer that stops early no longer holds the others back', async () => {
    const { source, state } = counted(50);
    const [first, all] = await broadcastWith(
      { buffer: 2 },
      source,
      async (items) => {
        for await (const n of items) if (n === 3) return n;
        return -1;
      },
      collect,
    );
    expect(first).toBe(3);
    expect(all).toHaveLength(50);
    expect(state.returned).toBe(true);
  });

  it('stops the source when every consumer has stopped', async () => {
    const raw = new BufferedStream<number>();
    let stopped = 0;
    const stream = new OutcomeStream<number>(() => ({
      next: () => raw.next(),
      return: () => {
        stopped += 1;
        return raw.return();
      },
    }));
    raw.push([1, 2, 3, 4]);
    const results = await broadcast(
      stream,
      async (items) => {
        for await (const n of items) if (n === 1) break;
        return 'a';
      },
      async (items) => {
        for await (const n of items) if (n === 2) break;
        return 'b';
      },
    );
    expect(results).toEqual(['a', 'b']);
    expect(stopped).toBe(1);
  });

  it('a consumer that throws stops the others and the source, and broadcast rejects with it', async () => {
    const { source, state } = counted(1_000);
    let otherError: unknown;
    await expect(
      broadcast(
        source,
        async (items) => {
          for await (const n of items) if (n === 5) throw new Error('consumer failed');
        },
        async (items) => {
          try {
            await collect(items);
          } catch (error) {
            otherError = error;
            throw error;
          }
        },
      ),
    ).rejects.toThrow('consumer failed');
    expect((otherError as Error).message).toBe('consumer failed');
    expect(state.returned).toBe(true);
    expect(state.pulled).toBeLessThan(1_000);
  });

  it('a source that throws fails every consumer with its error', async () => {
    async function* failing() {
      yield await Promise.resolve(1);
      throw new Error('source broke');
    }
    const seen: number[][] = [[], []];
    await expect(
      broadcast(
        failing(),
        async (items) => {
          for await (const n of items) seen[0]!.push(n);
        },
        async (items) => {
          for await (const n of items) seen[1]!.push(n);
        },
      ),
    ).rejects.toThrow('source broke');
    expect(seen).toEqual([[1], [1]]);
  });

  it('refuses a call without consumers', async () => {
    await expect(broadcast([1, 2])).rejects.toMatchObject({ code: 'TG_ERR_INVALID_REQUEST' });
  });
});

describe('broadcastWith', () => {
  it('refuses a buffer that is not a positive integer', async () => {
    await expect(broadcastWith({ buffer: 0 }, [1], collect)).rejects.toMatchObject({
      code: 'TG_ERR_INVALID_REQUEST',
      message: expect.stringMatching(/buffer/),
    });
  });
});

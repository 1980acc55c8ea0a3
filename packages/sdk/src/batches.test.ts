import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { MAX_SOCKET_ATTACHMENTS } from '@tabgrid/protocol/attachments';
import { LIMITS } from '@tabgrid/protocol/jobs';
import { approxBytes, batchTasks, sendWindowed, type TaskBatch } from './batches.js';

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('approxBytes', () => {
  it('counts JSON length, and binary by byte length', () => {
    expect(approxBytes({ a: 1 })).toBe(7);
    for (const scalar of ['ab', 12.5, true]) {
      expect(approxBytes(scalar)).toBe(JSON.stringify(scalar).length);
    }
    expect(approxBytes(new Float64Array(1024))).toBe(1 + 8192);
    expect(approxBytes({ data: new Uint8Array(100) })).toBe('{"data":0}'.length + 100);
  });

  it('refuses what cannot be sent', () => {
    expect(() => approxBytes({ n: 1n })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_TASK }),
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => approxBytes(cyclic)).toThrow(/Tasks must be JSON values/);
  });
});

describe('batchTasks', () => {
  it('cuts an array into batches of at most maxTasks, with unique ids and offsets', async () => {
    const batches = await collect(batchTasks(range(25), { maxTasks: 10, idPrefix: 'p' }));
    expect(batches.map((b) => b.tasks.length)).toEqual([10, 10, 5]);
    expect(batches.map((b) => b.batchId)).toEqual(['p-0', 'p-1', 'p-2']);
    expect(batches.map((b) => b.offset)).toEqual([0, 10, 20]);
    expect(batches.flatMap((b) => b.tasks)).toEqual(range(25));
  });

  it('gives every call its own random batchId prefix', async () => {
    const [a] = await collect(batchTasks([1]));
    const [b] = await collect(batchTasks([1]));
    expect(a?.batchId).not.toBe(b?.batchId);
    expect(a?.batchId.length).toBeLessThanOrEqual(100);
  });

  it('caps batches by approximate size; an oversized task travels alone', async () => {
    const task = 'x'.repeat(98); // 100 bytes as JSON
    const big = 'y'.repeat(1000);
    const batches = await collect(batchTasks([task, task, task, big, task], { maxBytes: 250 }));
    expect(batches.map((b) => b.tasks.length)).toEqual([2, 1, 1, 1]);
    expect(batches[2]?.tasks).toEqual([big]);
    expect(batches.map((b) => b.offset)).toEqual([0, 2, 3, 4]);
  });

  it('never exceeds the protocol limit on tasks per batch', async () => {
    const batches = await collect(batchTasks(range(LIMITS.maxBatchTasks + 1), { maxTasks: 1e9 }));
    expect(batches.map((b) => b.tasks.length)).toEqual([LIMITS.maxBatchTasks, 1]);
  });

  it('pulls the source only as batches are consumed', async () => {
    let pulled = 0;
    function* source() {
      for (;;) {
        pulled += 1;
        yield pulled;
      }
    }
    const batches = batchTasks(source(), { maxTasks: 3 });
    const first = await batches.next();
    expect(first.value).toMatchObject({ tasks: [1, 2, 3] });
    expect(pulled).toBe(3);
    await batches.return();
    expect(pulled).toBe(3);
  });

  it('works with async sources and releases a partial batch when the source stalls', async () => {
    const gate = deferred<void>();
    async function* source() {
      yield 1;
      yield 2;
      await gate.promise;
      yield 3;
    }
    const batches = batchTasks(source(), { maxTasks: 100, lingerMs: 5 });
    const first = await batches.next();
    expect(first.value).toMatchObject({ tasks: [1, 2], offset: 0 });
    gate.resolve();
    const rest = await collect({ [Symbol.asyncIterator]: () => batches });
    expect(rest.map((b) => b.tasks)).toEqual([[3]]);
    expect(rest[0]?.offset).toBe(2);
  });

  it('cuts a batch before it would carry more than MAX_SOCKET_ATTACHMENTS typed arrays', async () => {
    // 3 typed arrays a task: 3,333 tasks fill a message (9,999 attachments), the next one opens
    // a new batch; socket.io's parser takes 10 by default, the SDK socket's both ends 10,000.
    const tasks = range(7_000).map((i) => ({
      i,
      f: new Float32Array(1),
      b: new Uint8Array(1),
      w: new BigInt64Array(1),
    }));
    const batches = await collect(batchTasks(tasks, { maxTasks: 10_000, maxBytes: 1 << 30 }));
    expect(batches.map((b) => b.tasks.length)).toEqual([3_333, 3_333, 334]);
    expect(batches.map((b) => b.offset)).toEqual([0, 3_333, 6_666]);
    expect(MAX_SOCKET_ATTACHMENTS).toBe(10_000);
  });

  it('refuses one task of more typed arrays than a message carries, naming it and the limit', async () => {
    const many = Array.from({ length: MAX_SOCKET_ATTACHMENTS + 1 }, () => new Uint8Array(1));
    const exact = Array.from({ length: MAX_SOCKET_ATTACHMENTS }, () => new Uint8Array(1));
    await expect(collect(batchTasks([1, exact, many]))).rejects.toMatchObject({
      code: ErrorCode.PAYLOAD_TOO_LARGE,
      message: expect.stringMatching(
        /^tasks\[2\] holds more than 10,000 typed arrays \(MAX_SOCKET_ATTACHMENTS/,
      ),
    });
    const batches = await collect(batchTasks([1, exact, 2]));
    expect(batches.map((b) => b.tasks.length)).toEqual([2, 1]);
  });

  it('refuses a string, which would otherwise be split into characters', async () => {
    await expect(collect(batchTasks('abc'))).rejects.toMatchObject({
      code: ErrorCode.INVALID_REQUEST,
    });
  });
});

describe('sendWindowed', () => {
  it('keeps at most `window` sends unanswered and pulls a batch only when there is room', async () => {
    let pulled = 0;
    async function* batches() {
      for (let i = 0; i < 10; i += 1) {
        await Promise.resolve();
        pulled += 1;
        yield i;
      }
    }
    const pending: { batch: number; answer: ReturnType<typeof deferred<string>> }[] = [];
    let maxInFlight = 0;
    const done = sendWindowed(
      batches(),
      (batch) => {
        const answer = deferred<string>();
        pending.push({ batch, answer });
        maxInFlight = Math.max(maxInFlight, pending.length);
        return answer.promise.finally(() =>
          pending.splice(
            pending.findIndex((p) => p.batch === batch),
            1,
          ),
        );
      },
      3,
    );
    await tick();
    expect(pending.map((p) => p.batch)).toEqual([0, 1, 2]);
    expect(pulled).toBe(3);
    pending[1]?.answer.resolve('b1'); // answers may come out of order
    await tick();
    expect(pending.map((p) => p.batch)).toEqual([0, 2, 3]);
    while (pending.length > 0) {
      for (const p of [...pending]) p.answer.resolve(`b${p.batch}`);
      await tick();
    }
    const answers = await done;
    expect(answers).toHaveLength(10);
    expect(new Set(answers).size).toBe(10);
    expect(maxInFlight).toBe(3);
  });

  it('stops pulling at the first failure, waits for sends under way, and rejects with it', async () => {
    let pulled = 0;
    function* source() {
      for (let i = 0; i < 100; i += 1) {
        pulled += 1;
        yield i;
      }
    }
    async function* batches() {
      await Promise.resolve();
      yield* source();
    }
    let settledAfterFailure = false;
    const result = sendWindowed(
      batches(),
      async (batch) => {
        await tick();
        if (batch === 1) throw new Error('refused');
        if (batch > 1) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          settledAfterFailure = true;
        }
        return batch;
      },
      2,
    );
    await expect(result).rejects.toThrow('refused');
    expect(settledAfterFailure).toBe(true);
    expect(pulled).toBeLessThan(5);
  });

  it('rejects when the source throws', async () => {
    async function* batches() {
      yield await Promise.resolve(1);
      throw new Error('source broke');
    }
    await expect(sendWindowed(batches(), (b) => Promise.resolve(b), 4)).rejects.toThrow(
      'source broke',
    );
  });

  it('stops pulling once aborted and returns what was sent', async () => {
    const controller = new AbortController();
    const sent: TaskBatch[] = [];
    const all = await sendWindowed(
      batchTasks(range(10), { maxTasks: 1 }),
      (batch) => {
        sent.push(batch);
        if (sent.length === 2) controller.abort();
        return Promise.resolve(batch.offset);
      },
      1,
      controller.signal,
    );
    expect(all).toEqual([0, 1]);
  });
});

import { expect, test } from '@playwright/test';
import type { TaskOutcome } from '@tabgrid/sdk';
import { assertExactlyOnce } from '@tabgrid/server/testing';
import { gridPerTest } from '../support/grid.js';

const grid = gridPerTest();

test('two tabs compute a 2,000-task job: every index arrives exactly once with the right value', async () => {
  await grid.openTab();
  await grid.openTab();
  const job = await grid.tg.createJob({ program: (d: number) => d * 2, name: 'double' });
  const inputs = Array.from({ length: 2000 }, (_, i) => i);
  const outcomes: TaskOutcome[] = [];
  for await (const out of job.run(inputs)) outcomes.push(out);
  assertExactlyOnce(2000, outcomes, { expected: (i) => i * 2 });
  expect(outcomes).toHaveLength(2000);
  expect((await job.status()).state).toBe('done');
});

test('10,000 tasks of which 100 throw: 9,900 results and 100 errors, each index once, streams end by themselves', async () => {
  await grid.openTab();
  await grid.openTab();
  const job = await grid.tg.createJob({
    program:
      'function Run(d) { if (d % 100 === 7) throw new RangeError("bad input " + d); return d + 1 }',
    name: 'some-throw',
  });
  const submitted = job.submit(Array.from({ length: 10_000 }, (_, i) => i)).then(() => job.close());
  const results = (async () => {
    const got: number[] = [];
    for await (const r of job.results()) {
      expect(r.value).toBe(r.index + 1);
      got.push(r.index);
    }
    return got;
  })();
  const errors = (async () => {
    const got: number[] = [];
    for await (const e of job.errors()) {
      expect(e.name).toBe('RangeError');
      expect(e.message).toBe(`bad input ${e.index}`);
      expect(e.type).toBe('program');
      got.push(e.index);
    }
    return got;
  })();
  await submitted;
  const [ok, failed] = await Promise.all([results, errors]);
  expect(ok).toHaveLength(9_900);
  expect(new Set(ok).size).toBe(9_900);
  expect(failed).toHaveLength(100);
  expect(new Set(failed).size).toBe(100);
  expect(failed.every((i) => i % 100 === 7)).toBe(true);
  expect(await job.status()).toMatchObject({
    state: 'done',
    total: 10_000,
    finished: 9_900,
    failed: 100,
  });
});

test('a task that throws arrives in errors() with its message and stack', async () => {
  await grid.openTab();
  const job = await grid.tg.createJob({
    program:
      'function helper(d) { throw new Error("cannot handle " + d) }\nfunction Run(d) { if (d === 2) helper(d); return d }',
  });
  await job.submit([1, 2, 3]);
  await job.close();
  const errors = [];
  for await (const e of job.errors()) errors.push(e);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({
    index: 1,
    name: 'Error',
    message: 'cannot handle 2',
    type: 'program',
  });
  expect(errors[0]!.stack).toContain('helper');
  const values = [];
  for await (const r of job.results()) values.push(r.value);
  expect(values.sort()).toEqual([1, 3]);
});

test('typed arrays and ArrayBuffers round-trip through a tab with their kind, as binary frames', async () => {
  const page = await grid.openTab();
  // Watch the tab's worker socket from a fresh connection.
  const frames = { binaryIn: 0, binaryOut: 0, base64Text: 0 };
  page.on('websocket', (socket) => {
    const count = (payload: string | Buffer, binary: 'binaryIn' | 'binaryOut') => {
      if (typeof payload !== 'string') frames[binary]++;
      else if (payload.includes('$tabgrid.bytes')) frames.base64Text++;
    };
    socket.on('framereceived', ({ payload }) => count(payload, 'binaryIn'));
    socket.on('framesent', ({ payload }) => count(payload, 'binaryOut'));
  });
  await page.reload();
  await expect(page.getByTestId('connection-state')).toHaveText('connected');
  const job = await grid.tg.createJob({
    program: `function Run(d, args) {
      return { scaled: d.samples.map((x) => x * args.factor[0]), kind: d.samples.constructor.name,
        header: new Uint8Array(d.header).reverse().buffer, big: new BigInt64Array([-(2n ** 40n)]) };
    }`,
    args: { factor: new Int8Array([2]) },
  });
  const samples = new Float32Array([0.5, -1.25, 3]);
  const [out] = await job.map([{ samples, header: new Uint8Array([1, 2, 3]).buffer }]);
  const result = out as {
    scaled: Float32Array;
    kind: string;
    header: ArrayBuffer;
    big: BigInt64Array;
  };
  expect(result.kind).toBe('Float32Array');
  expect(result.scaled).toBeInstanceOf(Float32Array);
  expect([...result.scaled]).toEqual([1, -2.5, 6]);
  expect(result.header).toBeInstanceOf(ArrayBuffer);
  expect([...new Uint8Array(result.header)]).toEqual([3, 2, 1]);
  expect(result.big).toBeInstanceOf(BigInt64Array);
  expect(result.big[0]).toBe(-(2n ** 40n));
  // The job (its args), the task and the outcome each crossed the worker socket as binary.
  // (Polled: Playwright reports a sent frame asynchronously, possibly after the result arrived.)
  await expect.poll(() => ({ ...frames })).toEqual({ binaryIn: 2, binaryOut: 1, base64Text: 0 });
});

test('a tab closed mid-job: its tasks finish on the other tab', async () => {
  const doomed = await grid.openTab('?threads=2');
  const job = await grid.tg.createJob({
    program:
      'function Run(d) { const end = Date.now() + 20; while (Date.now() < end) {} return d }',
    timeoutMs: 10_000,
  });
  await job.submit(Array.from({ length: 400 }, (_, i) => i));
  await job.close();
  await expect.poll(async () => (await job.status()).finished).toBeGreaterThan(20);
  const before = await job.status();
  expect(before.inFlight).toBeGreaterThan(0);
  await doomed.close();
  const survivor = await grid.openTab();
  const results = [];
  for await (const r of job.results()) results.push(r);
  assertExactlyOnce(400, results);
  await expect(survivor.getByTestId('tasks-done')).not.toHaveText('0');
});

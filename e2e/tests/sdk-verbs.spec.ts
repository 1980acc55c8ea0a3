/**
 * Issue #14, items 1 and 2, in real Chromium tabs against a real server: pool.map, imap (input
 * order, and submission held within the window while an early task is slow), star(),
 * mapAsync, broadcast to three consumers, and a job cancelled mid-stream (the loop throws
 * TG_ERR_JOB_CANCELLED).
 */
import { expect, test } from '@playwright/test';
import { broadcast, ErrorCode, JobCancelledError, type TaskOutcome } from '@tabgrid/sdk';
import { gridPerTest } from '../support/grid.js';

const grid = gridPerTest();

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('pool.map gives values in input order, in a job named after the pool', async () => {
  await grid.openTab('?threads=2');
  const pool = grid.tg.pool((x: number) => x * x, { name: 'e2e-squares' });
  expect(await pool.map(range(500))).toEqual(range(500).map((x) => x * x));
  const job = await grid.tg.latestJob('e2e-squares');
  expect(await job?.status()).toMatchObject({ state: 'done', total: 500 });
});

test('pool.imap keeps order, and a slow early task holds submission within the window', async () => {
  await grid.openTab('?threads=2');
  // Task 0 waits for a message; the others are instant.
  const pool = grid.tg.pool(
    'async function Run(d) { if (d === 0) await tabgrid.next(); return d * 2 }',
    { name: 'e2e-imap' },
  );
  const WINDOW = 40;
  const iterator = pool.imap(range(1_000), { window: WINDOW })[Symbol.asyncIterator]();
  const first = iterator.next();
  let job: Awaited<ReturnType<typeof grid.tg.latestJob>>;
  await expect
    .poll(async () => (job = await grid.tg.latestJob('e2e-imap')) !== undefined)
    .toBe(true);
  // The window fills at once (submission does not wait for results), then stops while 0 is held.
  await expect.poll(async () => (await job!.status()).total).toBe(WINDOW);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const held = await job!.status();
  expect(held.total).toBeLessThanOrEqual(WINDOW);
  expect(held.total).toBeGreaterThan(1);
  await job!.tell('go');
  expect(await first).toEqual({ done: false, value: 0 });
  const rest: unknown[] = [];
  for (;;) {
    const step = await iterator.next();
    if (step.done) break;
    rest.push(step.value);
  }
  expect(rest).toEqual(
    range(1_000)
      .slice(1)
      .map((d) => d * 2),
  );
});

test('pool.star() spreads each tuple over Run’s parameters (args last when given)', async () => {
  await grid.openTab();
  const pow = grid.tg.pool((a: number, b: number) => a ** b, { name: 'e2e-pow' });
  expect(
    await pow.star().map([
      [2, 3],
      [3, 2],
      [10, 1],
    ]),
  ).toEqual([8, 9, 10]);
  const scaled = grid.tg.pool((a: number, b: number, args: { k: number }) => (a - b) * args.k, {
    name: 'e2e-scaled',
    args: { k: 3 },
  });
  expect(await scaled.star().map([[5, 1]])).toEqual([12]);
});

test('pool.mapAsync: ready(), wait(), get() and get({ timeoutMs }) on a job still running', async () => {
  await grid.openTab('?threads=2');
  const pool = grid.tg.pool(
    'async function Run(d) { if (d === 0) await tabgrid.next(); return d + 1 }',
    { name: 'e2e-async' },
  );
  const h = pool.mapAsync(range(200));
  expect(h.ready()).toBe(false);
  await expect(h.get({ timeoutMs: 500 })).rejects.toMatchObject({ code: ErrorCode.WAIT_TIMEOUT });
  expect(await h.wait({ timeoutMs: 200 })).toBe(false);
  await (await h.job()).tell('go');
  expect(await h.wait()).toBe(true);
  expect(h.successful()).toBe(true);
  expect(await h.get()).toEqual(range(200).map((d) => d + 1));
});

test('broadcast hands one job’s results to three consumers, paced by the slowest', async () => {
  await grid.openTab('?threads=2');
  const job = await grid.tg.createJob<number>({ program: (x: number) => x * 3, name: 'e2e-bc' });
  const values = job.run(range(600)).map((o) => (o.ok ? o.value : Number.NaN));
  const [all, sum, slowMax] = await broadcast(
    values,
    async (items) => {
      const out: number[] = [];
      for await (const v of items) out.push(v);
      return out;
    },
    async (items) => {
      let s = 0;
      for await (const v of items) s += v;
      return s;
    },
    async (items) => {
      let m = -Infinity;
      for await (const v of items) {
        m = Math.max(m, v);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return m;
    },
  );
  expect(all.sort((a, b) => a - b)).toEqual(range(600).map((x) => x * 3));
  expect(sum).toBe(3 * ((599 * 600) / 2));
  expect(slowMax).toBe(1_797);
});

test('cancel mid-stream: run() and a pool iterator throw TG_ERR_JOB_CANCELLED after what arrived', async () => {
  await grid.openTab('?threads=2');
  const slow = 'async function Run(d) { await new Promise((r) => setTimeout(r, 20)); return d }';
  const job = await grid.tg.createJob<number>({ program: slow, name: 'e2e-cancel' });
  const outcomes: TaskOutcome<number>[] = [];
  let error: unknown;
  try {
    for await (const o of job.run(range(2_000))) {
      outcomes.push(o);
      if (outcomes.length === 10) await job.cancel();
    }
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(JobCancelledError);
  expect(error).toMatchObject({ code: ErrorCode.JOB_CANCELLED, reason: 'cancelled' });
  expect(outcomes.length).toBe((await job.status()).total);

  const pool = grid.tg.pool(slow, { name: 'e2e-pool-abort' });
  const controller = new AbortController();
  let got = 0;
  let aborted: unknown;
  try {
    for await (const v of pool.imap(range(2_000), { signal: controller.signal })) {
      void v;
      got += 1;
      if (got === 5) controller.abort();
    }
  } catch (e) {
    aborted = e;
  }
  expect(aborted).toMatchObject({ code: ErrorCode.JOB_CANCELLED, reason: 'aborted' });
  expect(got).toBe(5);
  const poolJob = await grid.tg.latestJob('e2e-pool-abort');
  await expect.poll(async () => (await poolJob!.status()).state).toBe('cancelled');
});

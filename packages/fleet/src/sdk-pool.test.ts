/**
 * Issue #14, items 1 and 2, against a real server with fleet workers (which run the programs'
 * real source): every pool verb (map, imap with its window, unorderedImap, mapAsync, star()),
 * AbortSignals, a failed task, streams of a job cancelled mid-way (run, results, errors and the
 * pool's iterators throw TG_ERR_JOB_CANCELLED), take(), and broadcast over a job's results.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  broadcast,
  ErrorCode,
  JobCancelledError,
  TaskFailedError,
  type Job,
  type TaskOutcome,
} from '@tabgrid/sdk';
import { until } from '@tabgrid/server/testing';
import { serverPerFile } from '@tabgrid/server/testing/vitest';
import { Fleet } from './fleet.js';

// Real jobs on a shared 2-core machine: a generous limit per test (nothing here is timed).
vi.setConfig({ testTimeout: 60_000 });

const env = serverPerFile();

beforeAll(async () => {
  const fleet = env.adopt(
    new Fleet({
      url: env.wsUrl,
      workers: 4,
      threads: 2,
      credit: 32,
      behavior: { delayMs: [0, 2] },
    }),
  );
  await fleet.start();
});

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
let names = 0;
/** A name of its own per call, to find the call's job with tg.latestJob(). */
const uniqueName = (what: string): string => `${what}-${++names}`;

async function jobNamed(name: string): Promise<Job> {
  return until(() => env.tg.latestJob(name), { timeoutMs: 10_000 });
}

/** Runs `body` and returns what it threw (failing the test if it threw nothing). */
async function thrown(body: () => Promise<unknown>): Promise<unknown> {
  try {
    await body();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('pool.map', () => {
  it('gives every value in input order, in one named job', async () => {
    const name = uniqueName('squares');
    const pool = env.tg.pool((x: number) => x * x, { name });
    const values = await pool.map(range(3_000));
    expect(values).toEqual(range(3_000).map((x) => x * x));
    const job = await jobNamed(name);
    expect(await job.status()).toMatchObject({ name, state: 'done', total: 3_000 });
  });

  it('takes the job options: args reach Run', async () => {
    const pool = env.tg.pool((x: number, args: { k: number }) => x * args.k, {
      name: uniqueName('times-k'),
      args: { k: 7 },
    });
    expect(await pool.map([1, 2, 3])).toEqual([7, 14, 21]);
  });

  it('rejects at the first failed task with a TaskFailedError and cancels the job', async () => {
    const name = uniqueName('fails');
    const pool = env.tg.pool(
      'async function Run(d) { if (d === 7) throw new RangeError("no seven"); await new Promise((r) => setTimeout(r, 20)); return d }',
      { name },
    );
    const error = await thrown(() => pool.map(range(400)));
    expect(error).toBeInstanceOf(TaskFailedError);
    const failed = error as TaskFailedError;
    expect(failed.code).toBe(ErrorCode.TASK_FAILED);
    expect(failed.index).toBe(7);
    expect(failed.failure).toMatchObject({
      name: 'RangeError',
      message: 'no seven',
      type: 'program',
    });
    expect(failed.failure.stack).toMatch(/no seven/);
    expect(failed.message).toMatch(/Task 7 of job .* failed \(program\): RangeError: no seven/);
    const job = await jobNamed(name);
    await until(async () => (await job.status()).state === 'cancelled', { timeoutMs: 10_000 });
  });

  it('an already aborted signal rejects at once, creating no job', async () => {
    const name = uniqueName('never');
    const pool = env.tg.pool((x: number) => x, { name });
    const error = await thrown(() => pool.map([1], { signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(JobCancelledError);
    expect(error).toMatchObject({ code: ErrorCode.JOB_CANCELLED, reason: 'aborted' });
    expect(await env.tg.latestJob(name)).toBeUndefined();
  });
});

describe('pool.imap', () => {
  it('keeps input order although later tasks finish first', async () => {
    const pool = env.tg.pool(
      'async function Run(d) { await new Promise((r) => setTimeout(r, (d % 5) * 8)); return d }',
      { name: uniqueName('ordered') },
    );
    const got: number[] = [];
    for await (const v of pool.imap(range(300))) got.push(v as number);
    expect(got).toEqual(range(300));
  });

  it('holds submission within the window while an early task is slow (memory stays bounded)', async () => {
    const name = uniqueName('window');
    const release = `release-${name}`;
    // Task 0 waits for a message; every other task is instant.
    const pool = env.tg.pool(
      'async function Run(d) { if (d === 0) await tabgrid.next(); return d }',
      { name },
    );
    const WINDOW = 50;
    const iterator = pool.imap(range(2_000), { window: WINDOW })[Symbol.asyncIterator]();
    const first = iterator.next();
    const job = await jobNamed(name);
    // Submission fills the window at once (it does not wait for results), then stops: task 0
    // holds it.
    await until(async () => (await job.status()).total === WINDOW, { timeoutMs: 20_000 });
    // Give submission every chance to overrun the window before looking again.
    await new Promise((r) => setTimeout(r, 500));
    const held = await job.status();
    expect(held.total).toBeLessThanOrEqual(WINDOW);
    expect(held.total).toBeGreaterThan(1);
    await job.tell(release);
    expect(await first).toEqual({ done: false, value: 0 });
    const rest: number[] = [];
    for (;;) {
      const step = await iterator.next();
      if (step.done) break;
      rest.push(step.value as number);
    }
    expect(rest).toEqual(range(2_000).slice(1));
    expect((await job.status()).total).toBe(2_000);
  });

  it('throws the failed task’s TaskFailedError at its place, after the values before it', async () => {
    const pool = env.tg.pool('function Run(d) { if (d === 5) throw new Error("five"); return d }', {
      name: uniqueName('imap-fails'),
    });
    const got: unknown[] = [];
    const error = await thrown(async () => {
      for await (const v of pool.imap(range(50))) got.push(v);
    });
    expect(error).toMatchObject({ code: ErrorCode.TASK_FAILED, index: 5 });
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('an AbortSignal mid-stream cancels the job and throws JobCancelledError (aborted)', async () => {
    const name = uniqueName('aborted');
    const pool = env.tg.pool(
      'async function Run(d) { await new Promise((r) => setTimeout(r, 5)); return d }',
      { name },
    );
    const controller = new AbortController();
    const got: unknown[] = [];
    const error = await thrown(async () => {
      for await (const v of pool.imap(range(5_000), { signal: controller.signal })) {
        got.push(v);
        if (got.length === 20) controller.abort(new Error('enough'));
      }
    });
    expect(error).toBeInstanceOf(JobCancelledError);
    expect(error).toMatchObject({ reason: 'aborted', code: ErrorCode.JOB_CANCELLED });
    expect((error as Error).cause).toMatchObject({ message: 'enough' });
    expect(got).toHaveLength(20);
    const job = await jobNamed(name);
    await until(async () => (await job.status()).state === 'cancelled', { timeoutMs: 10_000 });
  });

  it('breaking out of the loop cancels the job', async () => {
    const name = uniqueName('break');
    const pool = env.tg.pool(
      'async function Run(d) { await new Promise((r) => setTimeout(r, 5)); return d }',
      { name },
    );
    for await (const v of pool.imap(range(5_000))) if (v === 3) break;
    const job = await jobNamed(name);
    await until(async () => (await job.status()).state === 'cancelled', { timeoutMs: 10_000 });
  });
});

describe('pool.unorderedImap', () => {
  it('gives every value once, as tasks finish', async () => {
    const pool = env.tg.pool((x: number) => x + 1, { name: uniqueName('unordered') });
    const got: number[] = [];
    for await (const v of pool.unorderedImap(range(2_000))) got.push(v);
    expect(got.sort((a, b) => a - b)).toEqual(range(2_000).map((x) => x + 1));
  });

  it('gains filter/take/batch: take(5) gives five and cancels the rest of the job', async () => {
    const name = uniqueName('take');
    const pool = env.tg.pool(
      'async function Run(d) { await new Promise((r) => setTimeout(r, 5)); return d }',
      { name },
    );
    const batches: number[][] = [];
    for await (const rows of pool
      .unorderedImap(range(3_000))
      .filter((v) => (v as number) % 2 === 0)
      .batch(2)
      .take(3))
      batches.push(rows as number[]);
    expect(batches).toHaveLength(3);
    expect(batches.flat().every((v) => v % 2 === 0)).toBe(true);
    const job = await jobNamed(name);
    await until(async () => (await job.status()).state === 'cancelled', { timeoutMs: 10_000 });
  });
});

describe('pool.star', () => {
  it('spreads each tuple over Run’s parameters, with args last when the pool has them', async () => {
    const pow = env.tg.pool((a: number, b: number) => a ** b, { name: uniqueName('pow') });
    expect(
      await pow.star().map([
        [2, 3],
        [3, 2],
        [5, 0],
      ]),
    ).toEqual([8, 9, 1]);
    const scaled = env.tg.pool((a: number, b: number, args: { k: number }) => (a + b) * args.k, {
      name: uniqueName('scaled'),
      args: { k: 10 },
    });
    expect(
      await scaled.star().map([
        [1, 2],
        [3, 4],
      ]),
    ).toEqual([30, 70]);
  });

  it('refuses a task that is not an array before sending it', async () => {
    const pool = env.tg.pool((a: number) => a, { name: uniqueName('not-tuples') }).star();
    await expect(pool.map([[1], 2])).rejects.toMatchObject({
      code: ErrorCode.INVALID_TASK,
      message: expect.stringMatching(/tasks\[1\] is not an array/),
    });
  });
});

describe('pool.mapAsync', () => {
  it('returns at once; ready(), wait(), get() give the values', async () => {
    const pool = env.tg.pool((x: number) => x * 2, { name: uniqueName('async') });
    const h = pool.mapAsync(range(500));
    expect(h.ready()).toBe(false);
    expect(await h.wait()).toBe(true);
    expect(h.ready()).toBe(true);
    expect(h.successful()).toBe(true);
    expect(await h.get({ timeoutMs: 10_000 })).toEqual(range(500).map((x) => x * 2));
  });

  it('get({ timeoutMs }) rejects with TG_ERR_WAIT_TIMEOUT while the job runs; cancel() stops it', async () => {
    const pool = env.tg.pool(
      'async function Run(d) { await new Promise((r) => setTimeout(r, 2000)); return d }',
      { name: uniqueName('slow-async') },
    );
    const h = pool.mapAsync(range(10));
    await expect(h.get({ timeoutMs: 300 })).rejects.toMatchObject({
      code: ErrorCode.WAIT_TIMEOUT,
    });
    expect(h.ready()).toBe(false);
    const job = await h.job();
    await h.cancel();
    await expect(h.get()).rejects.toMatchObject({
      code: ErrorCode.JOB_CANCELLED,
      reason: 'aborted',
    });
    await until(async () => (await job.status()).state === 'cancelled', { timeoutMs: 10_000 });
  });
});

describe('streams of a job cancelled mid-way throw TG_ERR_JOB_CANCELLED', () => {
  const SLOW = 'async function Run(d) { await new Promise((r) => setTimeout(r, 10)); return d }';

  it('job.run(): the outcomes that arrived, then JobCancelledError (cancelled)', async () => {
    const job = await env.tg.createJob<number>({ program: SLOW, name: uniqueName('run-cancel') });
    const outcomes: TaskOutcome<number>[] = [];
    const error = await thrown(async () => {
      for await (const o of job.run(range(5_000))) {
        outcomes.push(o);
        if (outcomes.length === 30) await job.cancel();
      }
    });
    expect(error).toBeInstanceOf(JobCancelledError);
    expect(error).toMatchObject({
      code: ErrorCode.JOB_CANCELLED,
      reason: 'cancelled',
      jobId: job.id,
    });
    expect(outcomes.length).toBeGreaterThanOrEqual(30);
    // Each task unsettled at the cancel arrived as a `cancelled` error before the throw.
    const info = await job.status();
    expect(outcomes.length).toBe(info.total);
    expect(outcomes.some((o) => !o.ok && o.error.type === 'cancelled')).toBe(true);
  });

  it('job.results() and job.errors() of a cancelled job throw after what they delivered', async () => {
    const job = await env.tg.createJob<number>({ program: SLOW, name: uniqueName('feeds-cancel') });
    await job.submit(range(3_000));
    const results: number[] = [];
    const readResults = thrown(async () => {
      for await (const r of job.results()) {
        results.push(r.value);
        if (results.length === 10) await job.cancel();
      }
    });
    const errors: string[] = [];
    const readErrors = thrown(async () => {
      for await (const e of job.errors()) errors.push(e.type);
    });
    expect(await readResults).toMatchObject({ code: ErrorCode.JOB_CANCELLED });
    expect(await readErrors).toMatchObject({ code: ErrorCode.JOB_CANCELLED });
    expect(results.length).toBeGreaterThanOrEqual(10);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((t) => t === 'cancelled')).toBe(true);
    // A stream opened after the cancel says so too.
    await expect(
      (async () => {
        for await (const r of job.results()) void r;
      })(),
    ).rejects.toMatchObject({ code: ErrorCode.JOB_CANCELLED });
  });

  it('a pool’s iterator whose job is cancelled from elsewhere throws JobCancelledError', async () => {
    const name = uniqueName('pool-cancel');
    const pool = env.tg.pool(SLOW, { name });
    let seen = 0;
    const error = await thrown(async () => {
      for await (const v of pool.unorderedImap(range(5_000))) {
        void v;
        seen += 1;
        if (seen === 10) await (await jobNamed(name)).cancel();
      }
    });
    expect(error).toMatchObject({ code: ErrorCode.JOB_CANCELLED, reason: 'cancelled' });
  });
});

describe('broadcast over a job', () => {
  it('hands every result to three consumers, reading the job once', async () => {
    const job = await env.tg.createJob<number>({
      program: (x: number) => x * 3,
      name: uniqueName('broadcast'),
    });
    const values = job.run(range(1_000)).map((o) => (o.ok ? o.value : -1));
    const [count, sum, max] = await broadcast(
      values,
      async (items) => {
        let n = 0;
        for await (const v of items) n += v >= 0 ? 1 : 0;
        return n;
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
          // A slow consumer: the others wait for it.
          if (v % 100 === 0) await new Promise((r) => setTimeout(r, 1));
        }
        return m;
      },
    );
    expect(count).toBe(1_000);
    expect(sum).toBe(3 * ((999 * 1_000) / 2));
    expect(max).toBe(2_997);
  });
});

/**
 * Local runs beyond the shared behaviour cases: cancel, delete and close, time limits with
 * retries, Setup's and Teardown's limits, messages, listings, and replay of a local job. Real
 * worker threads throughout; no assertion on how long anything took.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { Tabgrid } from '../client.js';
import type { TaskOutcome } from '../job.js';
import { JobCancelledError } from '../job-errors.js';
import { replayTask } from './replay.js';

let tg: Tabgrid | undefined;
function local(threads = 2): Tabgrid {
  tg = new Tabgrid({ local: { threads } });
  return tg;
}
afterEach(async () => {
  await tg?.close();
  tg = undefined;
});

async function all<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

/** What a stream of a job cancelled or deleted midway yields before it throws, and the throw. */
async function untilCancelled<T>(
  stream: AsyncIterable<T>,
): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const item of stream) items.push(item);
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}

describe('local runs', () => {
  it('map() keeps input order over many tasks and threads', async () => {
    const job = await local(3).createJob({ program: (d: number) => d * 3 });
    const inputs = Array.from({ length: 3000 }, (_, i) => i);
    expect(await job.map(inputs)).toEqual(inputs.map((d) => d * 3));
    expect(await job.status()).toMatchObject({ state: 'done', total: 3000, finished: 3000 });
  });

  it('cancel settles every unsettled task as cancelled, then the streams throw JobCancelledError; Teardown runs', async () => {
    const job = await local().createJob({
      program: `async function Run(d) {
  tabgrid.progress(0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  return d;
}
function Teardown() { console.log('teardown'); }`,
    });
    const logs = all(job.logs());
    const inputs = Array.from({ length: 40 }, (_, i) => i);
    const outcomes = untilCancelled(job.run(inputs));
    for await (const p of job.progress()) if (p.index === 0) break;
    expect((await job.cancel()).state).toBe('cancelled');
    // As on the grid: every task's outcome (the unsettled ones cancelled), then the throw.
    const { items: settled, error } = await outcomes;
    expect(error).toBeInstanceOf(JobCancelledError);
    expect(error).toMatchObject({ code: ErrorCode.JOB_CANCELLED, reason: 'cancelled' });
    expect(settled.map((o) => o.index).sort((x, y) => x - y)).toEqual(inputs);
    const cancelled = settled.filter((o) => !o.ok);
    expect(cancelled.length).toBeGreaterThan(0);
    for (const o of cancelled) {
      expect(o).toMatchObject({ error: { type: 'cancelled', name: 'CancelledError' } });
    }
    // The running tasks stop after their current one; each thread then runs Teardown.
    expect((await logs).filter((l) => l.message === 'teardown').length).toBeGreaterThan(0);
    await expect(job.tell({ late: true })).rejects.toMatchObject({ code: ErrorCode.JOB_FINISHED });
  });

  it('a task past timeoutMs is tried maxAttempts times on fresh threads, then settles as timeout', async () => {
    const job = await local().createJob({
      program: 'function Run(d) { if (d === 0) for (;;) {} return d; }',
      timeoutMs: 200,
      maxAttempts: 2,
    });
    const outcomes = await all(job.run([0, 1]));
    const timedOut = outcomes.find((o) => o.index === 0);
    expect(timedOut).toMatchObject({
      ok: false,
      error: {
        type: 'timeout',
        message: 'Task 0 failed 2 time(s) (maxAttempts 2): Run did not finish within 200 ms',
      },
    });
    expect(outcomes.find((o) => o.index === 1)).toMatchObject({ ok: true, value: 1 });
  });

  it('a Setup that never returns settles its tasks as setup after setupTimeoutMs', async () => {
    const job = await local().createJob({
      program: 'function Setup() { return new Promise(() => {}); }\nfunction Run(d) { return d; }',
      setupTimeoutMs: 200,
      maxAttempts: 2,
    });
    const outcomes: TaskOutcome[] = await all(job.run([1, 2, 3]));
    expect(outcomes).toHaveLength(3);
    for (const o of outcomes) {
      expect(o).toMatchObject({
        ok: false,
        error: { type: 'setup', message: 'Setup did not finish within setupTimeoutMs (200 ms)' },
      });
    }
  });

  it('a Teardown past its deadline leaves a warn line and the thread is ended', async () => {
    const job = await local(1).createJob({
      program: 'function Run(d) { return d; }\nfunction Teardown() { for (;;) {} }',
    });
    expect(await job.map([1])).toEqual([1]);
    const lines = await all(job.logs());
    expect(lines).toMatchObject([
      {
        index: null,
        level: 'warn',
        message: 'Teardown did not finish within 2 s; the thread was ended',
      },
    ]);
  });

  it('messages reach threads joining later, in order', async () => {
    const job = await local().createJob({
      program:
        'async function Run(d) { const a = await tabgrid.next(); const b = await tabgrid.next(); return [a, b, d]; }',
    });
    await job.submit([0]);
    expect(await job.tell('first')).toEqual({ seq: 1 });
    expect(await job.tell('second')).toEqual({ seq: 2 });
    await job.submit([1]);
    await job.close();
    const results = await all(job.results());
    expect(results.map((r) => r.value).sort()).toEqual([
      ['first', 'second', 0],
      ['first', 'second', 1],
    ]);
    expect((await job.status()).messages).toBe(2);
  });

  it('lists, finds by name, deletes (its streams throw JobCancelledError) and refuses tasks for a closed job', async () => {
    const client = local();
    const a = await client.createJob({ program: (d: number) => d, name: 'exp' });
    const b = await client.createJob({ program: (d: number) => d, name: 'exp' });
    expect((await client.jobs()).map((j) => j.id)).toEqual([a.id, b.id]);
    expect((await client.latestJob('exp'))?.id).toBe(b.id);
    expect(await a.map([5])).toEqual([5]);
    await expect(a.submit([6])).rejects.toMatchObject({ code: ErrorCode.JOB_NOT_OPEN });
    const pending = all(b.results());
    await b.delete();
    await expect(pending).rejects.toMatchObject({
      code: ErrorCode.JOB_CANCELLED,
      reason: 'deleted',
    });
    await expect(b.status()).rejects.toMatchObject({ code: ErrorCode.JOB_NOT_FOUND });
    expect(await client.deleteJobs()).toBe(1);
  });

  it('close() fails open streams and later requests with DISCONNECTED', async () => {
    const client = local();
    const job = await client.createJob({
      program: 'async function Run() { await tabgrid.next(); }',
    });
    const pending = all(job.run([0]));
    await client.close();
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.DISCONNECTED });
    await expect(client.jobs()).rejects.toMatchObject({ code: ErrorCode.DISCONNECTED });
  });

  it('replays a task of a local job', async () => {
    const client = local(1);
    const job = await client.createJob({
      program:
        'function Run(d) {\n  if (d > 1) throw new RangeError("too big: " + d);\n  return d;\n}',
    });
    await all(job.run([1, 2]));
    expect(await replayTask(client, job.id, 0)).toMatchObject({ ok: true, value: 1 });
    const failed = await replayTask(client, job.id, 1);
    expect(failed).toMatchObject({ ok: false, error: { type: 'program', name: 'RangeError' } });
    expect(failed.ok ? '' : failed.error.stack).toMatch(/at Run \(job\.js:2:\d+\)/);
  });

  it('a result the protocol refuses fails its task, not the process', async () => {
    const job = await local(1).createJob({
      program:
        'function Run(d) { return d === 1 ? { "$tabgrid.bytes": "Nope", base64: "x" } : d; }',
    });
    const outcomes = await all(job.run([0, 1, 2]));
    expect(outcomes.find((o) => o.index === 1)).toMatchObject({
      ok: false,
      error: { type: 'program', message: expect.stringContaining('$tabgrid.bytes') },
    });
    expect(
      outcomes
        .filter((o) => o.ok)
        .map((o) => o.index)
        .sort(),
    ).toEqual([0, 2]);
  });

  it('refuses a thread count it cannot use', () => {
    expect(() => new Tabgrid({ local: { threads: 0 } })).toThrow(/local\.threads/);
    expect(() => new Tabgrid({ local: { threads: 1.5 } })).toThrow(/whole number/);
  });
});

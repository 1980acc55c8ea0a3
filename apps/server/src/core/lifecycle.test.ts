/** Cancelled outcomes and the retry backoff (issue #11: two promises of the docs). */
import { carriedText } from '@tabgrid/protocol/packed-value';
import { describe, expect, it, vi } from 'vitest';
import type { Outcome, TaskFailure } from '@tabgrid/protocol/jobs';
import { retryDelayMs } from './retry-backoff.js';
import { admin, answer, connect, env, ok, reopen, settle, useHarness } from './testing/harness.js';

useHarness();

describe('cancel', () => {
  it('settles every unsettled task as a `cancelled` error; streams end after the last', async () => {
    const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(5000).keys()]);
    const w = connect(2);
    await settle();
    answer(w.session, [ok(w.tasks()[0]!)]); // one done, one still out on the worker
    await settle();
    const seen: Outcome[] = [];
    let ended: string | undefined;
    env.scheduler.streams.subscribe('s', job.id, 'all', 0, {
      push: (items, ready) => {
        seen.push(...items);
        ready();
      },
      end: (reason) => (ended = reason),
    });
    const info = await env.scheduler.cancelJob(admin, job.id);
    expect(info.state).toBe('cancelled');
    for (let i = 0; i < 200 && !ended; i++) await settle();
    expect(ended).toBe('cancelled');
    expect(seen).toHaveLength(5000);
    expect(new Set(seen.map((o) => o.index)).size).toBe(5000);
    const errors = seen.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    expect(errors).toHaveLength(4999);
    expect(errors.every((o) => o.error.type === 'cancelled')).toBe(true);
    expect(errors[0]!.error.message).toMatch(/its job was cancelled/);
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ finished: 1, failed: 4999 });
    // A late answer from the worker changes nothing.
    answer(w.session, [ok(w.tasks()[1]!)]);
    await settle();
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ finished: 1, failed: 4999 });
  });

  it('a restart in the middle carries on settling the rest', async () => {
    const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(6000).keys()]);
    await env.scheduler.cancelJob(admin, job.id);
    await reopen(); // right away: the background sweep had at most its first page done
    for (let i = 0; i < 200 && env.scheduler.job(admin, job.id).info().failed < 6000; i++) {
      await settle();
    }
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ failed: 6000, total: 6000 });
    const rows = await env.store.readOutcomes(job.id, 0, 'errors', 10_000);
    expect(new Set(rows.map((r) => r.index)).size).toBe(6000);
  });
});

describe('retryErrors backoff', () => {
  it('waits 100 ms, 200 ms, 400 ms … ×0.5–1.5, capped at 30 s', () => {
    expect([0, 1, 2, 3].map((r) => retryDelayMs(r, 0.5))).toEqual([100, 200, 400, 800]);
    expect([0, 1, 2].map((r) => retryDelayMs(r, 0))).toEqual([50, 100, 200]);
    expect(retryDelayMs(2, 0.999_999)).toBeCloseTo(600, 3);
    expect(retryDelayMs(9, 0.5)).toBe(30_000);
    expect(retryDelayMs(20, 0)).toBe(15_000);
    expect(retryDelayMs(20, 0.999_999)).toBeCloseTo(45_000, 1);
  });

  it('a task that throws is dispatched again only after each delay (fake time)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    const jitter = [0, 0.999, 0.5, 0.25];
    let draw = 0;
    await reopen({ random: () => jitter[draw++ % jitter.length]! });
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      retryErrors: 4,
    });
    await env.scheduler.submit(admin, job.id, 'b1', ['x']);
    await env.scheduler.closeJob(admin, job.id);
    const w = connect(10);
    const runs = async () => {
      await vi.advanceTimersByTimeAsync(0);
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      return w.tasks().length;
    };
    expect(await runs()).toBe(1);
    const fail = () =>
      answer(w.session, [
        {
          jobId: job.id,
          index: 0,
          ms: 1,
          ok: false,
          error: { name: 'Error', message: 'boom', stack: '' },
        },
      ]);
    // Delays: 100×(0.5+0) = 50, 200×(0.5+0.999) = 299.8, 400×1 = 400, 800×0.75 = 600.
    for (const [n, delay] of [50, 299.8, 400, 600].entries()) {
      fail();
      expect(await runs()).toBe(n + 1);
      vi.advanceTimersByTime(Math.floor(delay) - 1);
      expect(await runs()).toBe(n + 1); // not yet
      vi.advanceTimersByTime(2);
      expect(await runs()).toBe(n + 2); // dispatched again
    }
    fail(); // the 5th error is final
    await runs();
    const [row] = await env.store.readOutcomes(job.id, 0, 'errors', 10);
    expect(JSON.parse(carriedText(row!.payload)) as TaskFailure).toMatchObject({
      type: 'program',
      message: 'boom',
    });
  });
});

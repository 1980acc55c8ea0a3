/**
 * Issue #11: workers are untrusted input. Each test is an attack and what happens instead.
 */
import { carriedText } from '@tabgrid/protocol/packed-value';
import { describe, expect, it, vi } from 'vitest';
import { decodeJobInfo } from '@tabgrid/protocol/sdk';
import type { WorkerOutcome } from '@tabgrid/protocol/worker';
import { MAX_FORGED } from './dispatcher.js';
import { MAX_HELD_PER_JOB } from './hold-limit.js';
import {
  admin,
  answer,
  connect,
  env,
  ok,
  settle,
  timeFirstTasks,
  useHarness,
} from './testing/harness.js';

useHarness();

const timedOut = (jobId: string, index: number): WorkerOutcome => ({
  jobId,
  index,
  ms: 1,
  ok: false,
  error: { name: 'TimeoutError', message: 'forged', stack: '', timedOut: true },
});

async function jobWith(
  inputs: unknown[],
  options: { redundancy?: number; maxAttempts?: number } = {},
) {
  const job = await env.scheduler.createJob(admin, {
    program: 'function Run(d){return d}',
    ...options,
  });
  await env.scheduler.submit(admin, job.id, 'b1', inputs);
  await env.scheduler.closeJob(admin, job.id);
  return job;
}

describe('forged outcomes (item 2)', () => {
  it('a second socket answering tasks leased to the first changes nothing; the honest answers win', async () => {
    const job = await jobWith([10, 11]);
    const honest = connect(2);
    await settle();
    expect(honest.tasks().map((t) => t.index)).toEqual([0, 1]);
    const attacker = connect(0); // takes nothing, only answers
    answer(attacker.session, [
      { jobId: job.id, index: 0, ms: 1, ok: true, value: 'forged' },
      timedOut(job.id, 1),
    ]);
    await settle();
    const runtime = env.scheduler.job(admin, job.id);
    expect(runtime.info()).toMatchObject({ finished: 0, failed: 0, inFlight: 2 });
    expect(runtime.tries.attempts.size).toBe(0); // no attempt burnt by the forged timeout
    expect(env.scheduler.stats.forged).toBe(2);
    expect(attacker.session.forged).toBe(2);
    // The honest worker's answers are accepted, not counted as duplicates.
    answer(honest.session, honest.tasks().map(ok));
    await settle();
    expect(runtime.info()).toMatchObject({ state: 'done', finished: 2 });
    const rows = await env.store.readOutcomes(job.id, 0, 'all', 10);
    expect(rows.map((r) => JSON.parse(carriedText(r.payload)) as unknown)).toEqual([10, 11]);
    expect(env.scheduler.stats.duplicates).toBe(0);
  });

  it('a task in the retry lane cannot be settled by anyone; hand-backs of others’ tasks are refused', async () => {
    const job = await jobWith([1, 2, 3]);
    const a = connect(3);
    await settle();
    env.scheduler.dispatcher.disconnect(a.session); // three suspects, waiting for a worker
    const attacker = connect(0);
    // Outcomes that grant no credit: the attacker never holds anything.
    env.scheduler.dispatcher.handle(attacker.session, {
      type: 'outcomes',
      credit: 0,
      items: [0, 1, 2].map((index) => ok({ jobId: job.id, index, input: 0 })),
    });
    const b = connect(1);
    await settle();
    expect(b.tasks()).toHaveLength(1);
    env.scheduler.dispatcher.handle(attacker.session, { type: 'release', tasks: b.tasks() });
    await settle();
    const runtime = env.scheduler.job(admin, job.id);
    expect(runtime.info()).toMatchObject({ finished: 0, inFlight: 1 });
    expect(runtime.leases.get(b.tasks()[0]!.index)?.grant.owner.connection).toBe(b.session.id);
    expect(env.scheduler.stats.forged).toBe(4);
  });

  it('replicas: only the connection holding a replica may vote with it', async () => {
    const job = await jobWith([5], { redundancy: 2 });
    const [a, b] = [connect(1), connect(1)];
    await settle();
    const attacker = connect(0);
    answer(attacker.session, [{ jobId: job.id, index: 0, ms: 1, ok: true, value: 'lie' }]);
    answer(attacker.session, [{ jobId: job.id, index: 0, ms: 1, ok: true, value: 'lie' }]);
    await settle();
    expect(env.scheduler.stats.forged).toBe(2);
    answer(a.session, a.tasks().map(ok));
    answer(b.session, b.tasks().map(ok));
    await settle();
    const rows = await env.store.readOutcomes(job.id, 0, 'all', 10);
    expect(rows.map((r) => JSON.parse(carriedText(r.payload)) as unknown)).toEqual([5]);
    expect(env.scheduler.job(admin, job.id).info().disagreements).toBe(0);
  });

  it(`more than ${MAX_FORGED} forged outcomes close the socket with a reason`, async () => {
    const job = await jobWith([1]);
    const attacker = connect(0);
    const forged = Array.from({ length: MAX_FORGED + 1 }, () => timedOut(job.id, 0));
    answer(attacker.session, forged);
    expect(attacker.link.close).toHaveBeenCalledWith(
      4000,
      expect.stringMatching(/not leased to this connection/),
    );
  });

  it('a late answer for a task taken back from that very worker is a duplicate, not forged', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'Date'] });
    const { reopen } = await import('./testing/harness.js');
    await reopen();
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      timeoutMs: 1000,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [0, 1, 2, 3]);
    const w = connect(2);
    await settle();
    // Answers task 1 of its first frame and the next frame, never task 0: task 0 is taken back.
    answer(w.session, [ok(w.tasks()[1]!)]);
    await settle();
    answer(w.session, w.tasks().slice(2).map(ok));
    await settle();
    vi.advanceTimersByTime(20_000);
    await settle();
    answer(w.session, [ok(w.tasks()[0]!)]); // the late answer
    expect(w.session.forged).toBe(0);
    expect(env.scheduler.stats.duplicates).toBeGreaterThanOrEqual(1);
  });
});

describe('values the server cannot store (item 3)', () => {
  it('a result nested too deep to serialise fails that task, before its lease is touched', async () => {
    const job = await jobWith(['deep', 'fine']);
    const w = connect(2);
    await settle();
    let deep: unknown = [];
    for (let i = 0; i < 20_000; i++) deep = [deep];
    answer(w.session, [
      { jobId: job.id, index: 0, ms: 1, ok: true, value: deep },
      { jobId: job.id, index: 1, ms: 1, ok: true, value: 'fine' },
    ]);
    await settle();
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({
      state: 'done',
      finished: 1,
      failed: 1,
    });
    const [error] = await env.store.readOutcomes(job.id, 0, 'errors', 10);
    expect(JSON.parse(carriedText(error!.payload))).toMatchObject({
      name: 'ResultError',
      type: 'program',
      message: expect.stringMatching(/cannot store/),
    });
  });

  it('a sink that throws fails its own stream; a stored row that does not decode fails its reader', async () => {
    const job = await jobWith([1, 2]);
    const ends: { reason: string; message?: string }[] = [];
    const good: number[] = [];
    env.scheduler.streams.subscribe('bad', job.id, 'all', 0, {
      push: () => {
        throw new RangeError('Maximum call stack size exceeded');
      },
      end: (reason, message) => ends.push({ reason, ...(message ? { message } : {}) }),
    });
    env.scheduler.streams.subscribe('good', job.id, 'all', 0, {
      push: (items, ready) => {
        good.push(...items.map((o) => o.index));
        ready();
      },
      end: () => undefined,
    });
    const w = connect(2);
    await settle();
    answer(w.session, w.tasks().map(ok));
    await settle();
    expect(ends).toEqual([
      { reason: 'error', message: expect.stringMatching(/could not deliver/) },
    ]);
    expect(good.sort()).toEqual([0, 1]);
    // A corrupt row (say, written by an older server): the reader ends with an error, no crash.
    const other = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
    await env.store.settle(other.id, [
      { seq: 1, index: 0, ok: false, payload: '{"not":"a failure"}' },
    ]);
    const late: { reason: string; message?: string }[] = [];
    env.scheduler.streams.subscribe('late', other.id, 'all', 0, {
      push: (_items, ready) => ready(),
      end: (reason, message) => late.push({ reason, ...(message ? { message } : {}) }),
    });
    env.scheduler.job(admin, other.id).markDurable(1);
    env.scheduler.streams.pump(other.id);
    await settle();
    expect(late).toEqual([{ reason: 'error', message: expect.stringMatching(/seq 1/) }]);
  });
});

describe('hoarding (item 4)', () => {
  it('threads 1024, a huge credit and one ms:0 report do not let a worker take the job', async () => {
    const job = await jobWith([...Array(1000).keys()]);
    await timeFirstTasks(job.id);
    const hoarder = connect(1_000_000, { threads: 1024 });
    await settle();
    // It answers one task with ms: 0 and asks for everything.
    answer(hoarder.session, [{ ...ok(hoarder.tasks()[0]!), ms: 0 }]);
    env.scheduler.dispatcher.handle(hoarder.session, { type: 'credit', slots: 1_000_000 });
    await settle();
    const held = hoarder.session.inFlight;
    expect(held).toBeLessThanOrEqual(64 + 3); // 2 per counted thread (32), +3 it earned
    const honest = connect(10);
    await settle();
    expect(honest.tasks()).toHaveLength(2); // its share at once, not after a timeout
    expect(MAX_HELD_PER_JOB).toBeLessThan(1_000_000);
  });

  it('empty outcomes frames do not keep a hoarder alive; releases shrink its share', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'Date'] });
    const { reopen } = await import('./testing/harness.js');
    await reopen();
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      timeoutMs: 1000,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(100).keys()]);
    const hoarder = connect(100, { threads: 4 });
    await settle();
    expect(hoarder.tasks()).toHaveLength(8);
    // Hands everything back, again and again: each time it gets half as much.
    const sizes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const held = hoarder.tasks().slice(-hoarder.session.inFlight);
      env.scheduler.dispatcher.handle(hoarder.session, { type: 'release', tasks: held });
      await settle();
      sizes.push(hoarder.session.inFlight);
    }
    expect(sizes).toEqual([4, 2, 1, 1]);
    for (let s = 0; s < 17; s++) {
      env.scheduler.dispatcher.handle(hoarder.session, { type: 'outcomes', credit: 0, items: [] });
      vi.advanceTimersByTime(1000);
    }
    expect(hoarder.link.close).toHaveBeenCalledWith(
      4002,
      expect.stringMatching(/No task finished/),
    );
  });
});

describe('reported times (item 5)', () => {
  it('ms: 1e308 is clamped to the timeout: job.status() keeps decoding', async () => {
    const job = await jobWith([1, 2]);
    const w = connect(2);
    await settle();
    answer(
      w.session,
      w.tasks().map((t) => ({ ...ok(t), ms: 1e308 })),
    );
    await settle();
    const info = env.scheduler.job(admin, job.id).info();
    expect(Number.isFinite(info.computeMs)).toBe(true);
    expect(info.computeMs).toBe(2 * info.timeoutMs);
    expect(decodeJobInfo(JSON.parse(JSON.stringify(info)))).toEqual(info);
  });
});

describe('worker identity (item 6)', () => {
  it('two sockets from one address never both hold replicas of one task', async () => {
    const job = await jobWith([...Array(20).keys()], { redundancy: 2 });
    const [a, b] = [connect(20, { address: '10.0.0.1' }), connect(20, { address: '10.0.0.1' })];
    const c = connect(40, { address: '10.0.0.2' });
    const answered = new Set<string>();
    await settle();
    for (let round = 0; round < 20; round++) {
      for (const w of [a, b, c])
        answer(
          w.session,
          w
            .tasks()
            .filter((t) => !answered.has(`${w.session.id}:${t.index}`))
            .map((t) => (answered.add(`${w.session.id}:${t.index}`), ok(t))),
        );
      await settle();
    }
    const byA = new Set(a.tasks().map((t) => t.index));
    expect(b.tasks().filter((t) => byA.has(t.index))).toEqual([]);
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ state: 'done', finished: 20 });
  });
});

describe('sandbox fault reports (#19)', () => {
  const fault = (jobId: string) =>
    ({
      type: 'fault',
      jobId,
      kind: 'sandbox-violation',
      detail: 'outcome 0 names another job',
    }) as const;

  it('about a job the connection was never given: dropped and counted as forged', async () => {
    const job = await jobWith([1]);
    const stranger = connect(0, { address: '203.0.113.1' });
    env.scheduler.dispatcher.handle(stranger.session, fault(job.id));
    expect(env.scheduler.stats).toMatchObject({ forged: 1, sandboxFaults: 0 });
    expect(env.scheduler.job(admin, job.id).info().paused).toBeNull();
  });

  it('one host repeating it pauses nothing; tabs of three hosts pause the job, and resume clears it', async () => {
    const job = await jobWith([...Array(12).keys()]);
    const report = async (address: string, times = 1) => {
      const w = connect(1, { address });
      await settle();
      expect(w.tasks().length).toBeGreaterThan(0); // it was given the job
      for (let i = 0; i < times; i++) env.scheduler.dispatcher.handle(w.session, fault(job.id));
    };
    await report('198.51.100.1', 10);
    expect(env.scheduler.job(admin, job.id).info().paused).toBeNull();
    await report('198.51.100.2');
    expect(env.scheduler.job(admin, job.id).info().paused).toBeNull();
    await report('198.51.100.3');
    expect(env.scheduler.stats.sandboxFaults).toBe(12);
    expect(env.scheduler.job(admin, job.id).info().paused).toMatch(
      /worker pages of 3 volunteers caught this job's code tampering with its sandbox/,
    );
    await env.scheduler.resumeJob(admin, job.id);
    expect(env.scheduler.job(admin, job.id).info().paused).toBeNull();
  });
});

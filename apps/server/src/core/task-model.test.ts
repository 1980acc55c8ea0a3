/**
 * Issue #13, the core's side of the task model: a Setup that fails counts attempts and keeps
 * the task off that connection, then settles as `setup`; a task that falls silent past its
 * job's progressTimeoutMs is taken back (ENOPROGRESS); series travel with their outcomes.
 * Fake clock, MemoryJobStore, raw workers (the harness's recording links).
 */
import { carriedText } from '@tabgrid/protocol/packed-value';
import { describe, expect, it } from 'vitest';
import type { TaskFailure } from '@tabgrid/protocol/jobs';
import type { WorkerOutcome } from '@tabgrid/protocol/worker';
import { FakeClock } from './testing/fake-clock.js';
import {
  admin,
  answer,
  connect,
  env,
  ok,
  reopen,
  settle,
  useHarness,
  type TestWorker,
} from './testing/harness.js';

useHarness();

const SETUP_STACK = 'Error: no wasm here\n    at Setup (job.js:2:11)';

/** Setup threw on the thread that was to run task `index`. */
const setupFailed = (jobId: string, index: number): WorkerOutcome => ({
  jobId,
  index,
  ms: 0,
  ok: false,
  error: { name: 'Error', message: 'no wasm here', stack: SETUP_STACK, phase: 'setup' },
});

async function jobWith(inputs: unknown[], options: Record<string, number> = {}) {
  const job = await env.scheduler.createJob(admin, {
    program: 'function Setup(){}\nfunction Run(d){return d}',
    ...options,
  });
  await env.scheduler.submit(admin, job.id, 'b1', inputs);
  await env.scheduler.closeJob(admin, job.id);
  return job;
}

/** The tasks `w` was sent after its first `seen`. */
const sentSince = (w: TestWorker, seen: number) => w.tasks().slice(seen);

async function failure(jobId: string, index: number): Promise<TaskFailure> {
  const rows = await env.store.readOutcomes(jobId, 0, 'errors', 100);
  const row = rows.find((r) => r.index === index);
  expect(row).toBeDefined();
  return JSON.parse(carriedText(row!.payload)) as TaskFailure;
}

describe('Setup failures', () => {
  it('count attempts (not retryErrors), skip the connection, and settle as `setup` with Setup’s error', async () => {
    const job = await jobWith(['x'], { maxAttempts: 3, retryErrors: 5 });
    const a = connect(1);
    await settle();
    expect(a.tasks()).toHaveLength(1);
    const b = connect(1);
    await settle();
    expect(b.tasks()).toHaveLength(0); // the task is out on a

    answer(a.session, [setupFailed(job.id, 0)]);
    await settle();
    const runtime = env.scheduler.job(admin, job.id);
    expect(runtime.tries.attemptsOf(0)).toBe(1);
    expect(runtime.tries.errorRetriesOf(0)).toBe(0);
    expect(a.session.setupFailed.has(job.id)).toBe(true);
    expect(a.session.tasksDone).toBe(0); // the task never ran there
    // a has credit again, but its Setup failed: the task went to b.
    expect(a.tasks()).toHaveLength(1);
    expect(b.tasks().map((t) => t.index)).toEqual([0]);

    answer(b.session, [setupFailed(job.id, 0)]);
    await settle();
    expect(runtime.tries.attemptsOf(0)).toBe(2);
    // Every connected worker failed Setup: the task runs anyway, rather than wait forever.
    const third = [...sentSince(a, 1), ...sentSince(b, 1)];
    expect(third.map((t) => t.index)).toEqual([0]);
    const last = sentSince(a, 1).length > 0 ? a : b;
    answer(last.session, [setupFailed(job.id, 0)]);
    await settle();

    expect(runtime.info()).toMatchObject({ state: 'done', failed: 1, finished: 0 });
    expect(await failure(job.id, 0)).toEqual({
      name: 'Error',
      message: 'no wasm here',
      stack: SETUP_STACK,
      type: 'setup',
    });
    expect(env.scheduler.stats).toMatchObject({ forged: 0, duplicates: 0 });
  });

  it('a task whose Setup failed on one tab runs on another and settles there', async () => {
    const job = await jobWith([1, 2], { maxAttempts: 2 });
    const a = connect(2);
    await settle();
    expect(a.tasks()).toHaveLength(2);
    const b = connect(5);
    answer(
      a.session,
      a.tasks().map((t) => setupFailed(t.jobId, t.index)),
    );
    await settle();
    expect(sentSince(a, 2)).toHaveLength(0); // skipped while b can run them
    expect(
      b
        .tasks()
        .map((t) => t.index)
        .sort(),
    ).toEqual([0, 1]);
    answer(b.session, b.tasks().map(ok));
    await settle();
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ state: 'done', finished: 2 });
  });

  it('the skip is per connection: once the other workers are gone, the tab gets the job again', async () => {
    const job = await jobWith([1, 2, 3], { maxAttempts: 5 });
    const a = connect(1);
    const b = connect(0); // connected, takes nothing yet
    await settle();
    answer(a.session, [setupFailed(job.id, a.tasks()[0]!.index)]);
    await settle();
    expect(sentSince(a, 1)).toHaveLength(0);
    env.scheduler.dispatcher.disconnect(b.session);
    await settle();
    expect(sentSince(a, 1)).toHaveLength(1); // alone now: it gets the job again
    // A worker that connects later has not failed it: a is skipped again meanwhile.
    const c = connect(3, { threads: 2 }); // room for all three
    answer(a.session, [setupFailed(job.id, sentSince(a, 1)[0]!.index)]);
    await settle();
    expect(sentSince(a, 2)).toHaveLength(0);
    expect(c.tasks()).toHaveLength(3);
  });

  it('sockets that never said hello do not keep a setup-failed tab from its job', async () => {
    const job = await jobWith([1], { maxAttempts: 2 });
    const a = connect(1);
    await settle();
    for (let i = 0; i < 5; i++) {
      env.scheduler.dispatcher.connect({ send: () => {}, close: () => {}, isOpen: () => true });
    }
    answer(a.session, [setupFailed(job.id, 0)]);
    await settle();
    expect(sentSince(a, 1).map((t) => t.index)).toEqual([0]); // no one else could take it
    answer(a.session, [setupFailed(job.id, 0)]);
    await settle();
    expect((await failure(job.id, 0)).type).toBe('setup');
  });

  it('Setup times reported by the page are counted on the job', async () => {
    const job = await jobWith([1]);
    const a = connect(1, { threads: 2 });
    await settle();
    for (const ms of [120, 80]) {
      env.scheduler.dispatcher.handle(a.session, {
        type: 'report',
        items: [{ jobId: job.id, index: null, setup: { ms, ok: true } }],
      });
    }
    expect(env.scheduler.job(admin, job.id).info().setups).toEqual({
      count: 2,
      totalMs: 200,
      maxMs: 120,
    });
  });

  it('forgets a finished job’s Setup failures with the job', async () => {
    const job = await jobWith([1, 2], { maxAttempts: 3 });
    const a = connect(1);
    const b = connect(5);
    await settle();
    const onA = a.tasks()[0]!;
    answer(a.session, [setupFailed(job.id, onA.index)]);
    await settle();
    answer(b.session, b.tasks().map(ok));
    await settle();
    expect(env.scheduler.job(admin, job.id).info().state).toBe('done');
    expect(a.session.setupFailed.size).toBe(0);
    expect(a.session.hasProgram(job.id)).toBe(false);
  });
});

describe('progressTimeoutMs (ENOPROGRESS)', () => {
  async function progressJob(maxAttempts: number) {
    const clock = new FakeClock();
    await reopen({ clock });
    const job = await jobWith(['slow'], {
      timeoutMs: 600_000,
      progressTimeoutMs: 2_000,
      maxAttempts,
    });
    return { clock, job };
  }

  it('takes back a task silent past the timeout after it started; it runs elsewhere, the late answer is a duplicate', async () => {
    const { clock, job } = await progressJob(3);
    const board = env.scheduler.progressBoard;
    const a = connect(1);
    await settle();
    const task = a.tasks()[0]!;
    board.started(job.id, task.index, a.session.id); // the page says it began running
    clock.advance(1_500);
    board.progress(job.id, task.index, a.session.id, 0.25);
    clock.advance(1_900); // 1.9 s since the last progress(): still fine
    const runtime = env.scheduler.job(admin, job.id);
    expect(runtime.info().inFlight).toBe(1);
    expect(board.snapshot(job.id)).toEqual([
      {
        index: 0,
        fraction: 0.25,
        workerId: a.session.id,
        at: new Date(clock.now() - 1_900).toISOString(),
      },
    ]);

    const b = connect(1);
    clock.advance(1_000); // the check at 4 s: silent 2.5 s
    await settle();
    expect(runtime.tries.attemptsOf(0)).toBe(1);
    expect(board.size).toBe(0);
    expect(b.tasks().map((t) => t.index)).toEqual([0]); // ran elsewhere
    answer(a.session, [ok(task)]); // a's late answer
    await settle();
    expect(env.scheduler.stats).toMatchObject({ duplicates: 1, forged: 0 });
    expect(runtime.info()).toMatchObject({ finished: 0, inFlight: 1 });
    answer(b.session, b.tasks().map(ok));
    await settle();
    expect(runtime.info()).toMatchObject({ state: 'done', finished: 1 });
  });

  it('settles `lost` with the ENOPROGRESS message once attempts are spent', async () => {
    const { clock, job } = await progressJob(1);
    const a = connect(1);
    await settle();
    env.scheduler.progressBoard.started(job.id, 0, a.session.id);
    clock.advance(3_000);
    await settle();
    const error = await failure(job.id, 0);
    expect(error.type).toBe('lost');
    expect(error.message).toMatch(/ENOPROGRESS: task 0 sent no progress\(\) for 3000 ms/);
  });

  it('through the page’s report frames: `started` starts the clock, progress() resets it', async () => {
    const { clock, job } = await progressJob(1);
    const a = connect(1);
    await settle();
    const report = (item: Record<string, unknown>) =>
      env.scheduler.dispatcher.handle(a.session, {
        type: 'report',
        items: [{ jobId: job.id, index: 0, ...item }],
      });
    report({ started: true });
    clock.advance(1_800);
    report({ progress: 0.5 });
    clock.advance(1_800);
    report({ progress: null }); // "alive"
    clock.advance(1_800);
    expect(env.scheduler.job(admin, job.id).info().inFlight).toBe(1); // never silent 2 s
    clock.advance(1_000);
    await settle();
    const error = await failure(job.id, 0);
    expect(error).toMatchObject({ type: 'lost', name: 'LostError' });
    expect(error.message).toMatch(/ENOPROGRESS: task 0 sent no progress\(\) for 2[0-9]{3} ms/);
    expect(env.scheduler.stats.forged).toBe(0);
  });

  it('leaves a task never heard from to the other nets (it may be queued on the page)', async () => {
    const { clock, job } = await progressJob(3);
    const a = connect(1);
    await settle();
    clock.advance(10_000);
    await settle();
    expect(env.scheduler.job(admin, job.id).info().inFlight).toBe(1);
    expect(env.scheduler.job(admin, job.id).tries.attemptsOf(0)).toBe(0);
    expect(a.link.close).not.toHaveBeenCalled();
  });

  it('a job without progressTimeoutMs keeps its silent tasks; entries go when tasks settle or leave', async () => {
    const clock = new FakeClock();
    await reopen({ clock });
    const job = await jobWith([1, 2], { timeoutMs: 600_000 });
    const board = env.scheduler.progressBoard;
    const a = connect(2);
    await settle();
    for (const t of a.tasks()) board.progress(job.id, t.index, a.session.id, null);
    clock.advance(60_000);
    expect(board.size).toBe(2);
    expect(board.snapshot(job.id).map((p) => p.fraction)).toEqual([undefined, undefined]);
    answer(a.session, [ok(a.tasks()[0]!)]);
    await settle();
    expect(board.snapshot(job.id).map((p) => p.index)).toEqual([1]);
    env.scheduler.dispatcher.disconnect(a.session);
    clock.advance(1_000); // the next check sweeps what lost its lease
    expect(board.size).toBe(0);
  });
});

describe('series travel with their outcomes', () => {
  const withSeries = (
    t: { jobId: string; index: number; input: unknown },
    series: { label: string; values: unknown[] }[],
  ): WorkerOutcome => ({ ...ok(t), series });

  it('are stored with the settled outcome, in its commit, under its seq', async () => {
    const job = await jobWith([1, 2]);
    const w = connect(2);
    await settle();
    const [t0, t1] = w.tasks();
    answer(w.session, [
      withSeries(t0!, [
        { label: 'loss', values: [0.5, 0.25] },
        { label: 'acc', values: [{ top1: 1 }] },
      ]),
      ok(t1!), // collected nothing
    ]);
    await settle();
    const rows = await env.store.readSeries(job.id, 'loss', 0, 10);
    const seq = (await env.store.readOutcomes(job.id, 0, 'all', 10)).find(
      (o) => o.index === t0!.index,
    )!.seq;
    expect(rows).toEqual([{ seq, index: t0!.index, values: '[0.5,0.25]' }]);
    expect(await env.store.readSeries(job.id, 'acc', 0, 10)).toEqual([
      { seq, index: t0!.index, values: '[{"top1":1}]' },
    ]);
    expect((await env.store.seriesLabels(job.id, 10)).sort()).toEqual(['acc', 'loss']);
    expect(env.scheduler.job(admin, job.id).record).toMatchObject({
      seriesBytes: '[0.5,0.25]'.length + '[{"top1":1}]'.length,
      seriesDropped: 0,
    });
  });

  it('a retried attempt’s series go with it; only the settled attempt’s are kept', async () => {
    const clock = new FakeClock();
    await reopen({ clock });
    const job = await jobWith(['x'], { retryErrors: 1 });
    const w = connect(1);
    await settle();
    const t = w.tasks()[0]!;
    answer(w.session, [
      {
        jobId: job.id,
        index: t.index,
        ms: 1,
        ok: false,
        error: { name: 'Error', message: 'flaky', stack: '' },
        series: [{ label: 'loss', values: [9] }],
      },
    ]);
    clock.advance(30_000); // its backoff
    await settle();
    answer(w.session, [withSeries(w.tasks()[1]!, [{ label: 'loss', values: [1] }])]);
    await settle();
    expect((await env.store.readSeries(job.id, 'loss', 0, 10)).map((r) => r.values)).toEqual([
      '[1]',
    ]);
    // A late duplicate's series are dropped with it.
    answer(w.session, [withSeries(t, [{ label: 'loss', values: [7] }])]);
    await settle();
    expect(await env.store.readSeries(job.id, 'loss', 0, 10)).toHaveLength(1);
  });

  it('per task: a repeated label, labels past 64 and values past 1 MB are dropped and counted', async () => {
    const job = await jobWith([1]);
    const w = connect(1);
    await settle();
    const labels = [...Array(70).keys()].map((i) => ({ label: `l${i}`, values: [i] }));
    answer(w.session, [
      withSeries(w.tasks()[0]!, [
        { label: 'l0', values: [1, 2, 3] }, // kept
        { label: 'l0', values: [4, 5] }, // repeated: dropped
        ...labels.slice(1), // l1 … l63 kept, l64 … l69 dropped
      ]),
    ]);
    await settle();
    expect((await env.store.seriesLabels(job.id, 100)).length).toBe(64);
    expect(env.scheduler.job(admin, job.id).record.seriesDropped).toBe(2 + 6);

    const big = await jobWith([1]);
    await settle(); // w has room again: it gets big's task
    const half = 'x'.repeat(600 * 1024);
    answer(w.session, [
      withSeries(
        w.tasks().find((t) => t.jobId === big.id)!,
        [
          { label: 'a', values: [half] },
          { label: 'b', values: [half, 1] }, // would pass 1 MB: dropped, and what follows
          { label: 'c', values: [1] },
        ],
      ),
    ]);
    await settle();
    expect(await env.store.seriesLabels(big.id, 10)).toEqual(['a']);
    expect(env.scheduler.job(admin, big.id).record.seriesDropped).toBe(3);
  });

  it('per job: past maxSeriesBytesPerJob values are dropped and the threads told once', async () => {
    await reopen({ maxSeriesBytesPerJob: 100 });
    const job = await jobWith([1, 2, 3]);
    const w = connect(3, { threads: 2 });
    await settle();
    const [t0, t1, t2] = w.tasks();
    const sixty = [`${'y'.repeat(56)}`]; // '["yyy…"]' is 60 characters
    answer(w.session, [withSeries(t0!, [{ label: 's', values: sixty }])]);
    await settle();
    expect(w.frames.filter((f) => f.type === 'limit')).toHaveLength(0);
    answer(w.session, [withSeries(t1!, [{ label: 's', values: sixty }])]);
    answer(w.session, [withSeries(t2!, [{ label: 's', values: [1] }])]);
    await settle();
    expect((await env.store.readSeries(job.id, 's', 0, 10)).map((r) => r.index)).toEqual([
      t0!.index,
    ]);
    expect(env.scheduler.job(admin, job.id).record).toMatchObject({
      seriesBytes: 60,
      seriesDropped: 2,
    });
    expect(w.frames.filter((f) => f.type === 'limit')).toEqual([
      { type: 'limit', jobId: job.id, what: 'series', maxBytes: 100 },
    ]);
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ state: 'done', finished: 3 });
  });

  it('a redundancy job keeps the series of the replica whose answer settled its task', async () => {
    const job = await jobWith([5], { redundancy: 2 });
    const [a, b] = [connect(1, { address: '10.0.0.1' }), connect(1, { address: '10.0.0.2' })];
    await settle();
    answer(a.session, [withSeries(a.tasks()[0]!, [{ label: 'r', values: ['a'] }])]);
    await settle();
    expect(await env.store.readSeries(job.id, 'r', 0, 10)).toEqual([]); // no quorum yet
    answer(b.session, [withSeries(b.tasks()[0]!, [{ label: 'r', values: ['b'] }])]);
    await settle();
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ state: 'done', finished: 1 });
    expect((await env.store.readSeries(job.id, 'r', 0, 10)).map((r) => r.values)).toEqual([
      '["b"]',
    ]);
  });
});

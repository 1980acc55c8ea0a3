/**
 * Issue #13: the feeds that follow a job besides its outcomes — logs, events, series (riding
 * the outcome seq) and progress — on MemoryJobStore with a fake clock and recording workers.
 * They resume from a cursor, never read past what is durable, and end by themselves.
 */
import { describe, expect, it } from 'vitest';
import type { WorkerOutcome } from '@tabgrid/protocol/worker';
import { TEARDOWN_GRACE_MS } from './feed-streams.js';
import { PROGRESS_PUSH_MS } from './progress-board.js';
import { FakeClock } from './testing/fake-clock.js';
import {
  RecordingFeedSink,
  admin,
  answer,
  connect,
  env,
  ok,
  reopen,
  report,
  settle,
  useHarness,
} from './testing/harness.js';

useHarness();

async function openJob(clock: FakeClock, inputs: unknown[]) {
  await reopen({ clock });
  const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
  await env.scheduler.submit(admin, job.id, 'b1', inputs);
  await env.scheduler.closeJob(admin, job.id);
  const w = connect(inputs.length);
  await settle();
  return { job, w };
}

const grid = () => ({
  follow: (
    id: string,
    jobId: string,
    feed: 'logs' | 'events' | 'progress' | 'series',
    from: number,
    label?: string,
  ) => {
    const sink = new RecordingFeedSink();
    env.scheduler.feeds.streams.subscribe(id, jobId, feed, from, label, sink);
    return sink;
  },
});

describe('logs and events', () => {
  it('reach a follower once durable, with seq, index, worker and ISO time; a resume starts after its cursor', async () => {
    const clock = new FakeClock();
    const { job, w } = await openJob(clock, [1, 2]);
    const logs = grid().follow('s1', job.id, 'logs', 0);
    const at = Date.UTC(2026, 0, 1, 12);
    report(w.session, [
      { jobId: job.id, index: null, logs: [{ level: 'info', message: 'setup', count: 1, at }] },
      { jobId: job.id, index: 1, logs: [{ level: 'warn', message: 'slow', count: 50, at }] },
    ]);
    expect(logs.items).toEqual([]); // not durable yet
    await settle();
    expect(logs.items).toEqual([
      {
        seq: 1,
        index: null,
        level: 'info',
        message: 'setup',
        count: 1,
        workerId: w.session.id,
        at: new Date(at).toISOString(),
      },
      {
        seq: 2,
        index: 1,
        level: 'warn',
        message: 'slow',
        count: 50,
        workerId: w.session.id,
        at: new Date(at).toISOString(),
      },
    ]);
    const runtime = env.scheduler.job(admin, job.id);
    expect(await env.scheduler.feeds.streams.tail(runtime, 'logs', 1)).toMatchObject([{ seq: 2 }]);
    const resumed = grid().follow('s2', job.id, 'logs', 1);
    await settle();
    expect(resumed.items.map((l) => (l as { seq: number }).seq)).toEqual([2]);

    const events = grid().follow('s3', job.id, 'events', 0);
    report(w.session, [
      { jobId: job.id, index: 0, events: [{ name: 'loaded', data: { rows: [1, 2] }, at }] },
    ]);
    await settle();
    expect(events.items).toEqual([
      { seq: 1, index: 0, name: 'loaded', data: { rows: [1, 2] }, at: new Date(at).toISOString() },
    ]);
    expect(
      await env.scheduler.feeds.streams.readLines(
        env.scheduler.job(admin, job.id),
        'events',
        0,
        10,
      ),
    ).toEqual(events.items);
  });

  it(`end ${TEARDOWN_GRACE_MS / 1000} s after the job is done, so Teardown's lines still arrive`, async () => {
    const clock = new FakeClock();
    const { job, w } = await openJob(clock, [1]);
    const logs = grid().follow('s1', job.id, 'logs', 0);
    answer(w.session, w.tasks().map(ok));
    await settle();
    expect(env.scheduler.job(admin, job.id).info().state).toBe('done');
    expect(logs.ended).toBeUndefined();
    clock.advance(TEARDOWN_GRACE_MS - 1000);
    report(w.session, [
      {
        jobId: job.id,
        index: null,
        logs: [{ level: 'log', message: 'teardown', count: 1, at: 1 }],
      },
    ]);
    await settle();
    expect(logs.items).toMatchObject([{ message: 'teardown', index: null }]);
    expect(logs.ended).toBeUndefined();
    clock.advance(1000);
    await settle();
    expect(logs.ended).toEqual({ reason: 'done' });
    // A follower that comes later gets everything, then the end at once.
    const late = grid().follow('s2', job.id, 'logs', 0);
    await settle();
    expect(late.items).toHaveLength(1);
    expect(late.ended).toEqual({ reason: 'done' });
  });

  it('end at once when the job is deleted', async () => {
    const clock = new FakeClock();
    const { job } = await openJob(clock, [1]);
    const logs = grid().follow('s1', job.id, 'logs', 0);
    const progress = grid().follow('s2', job.id, 'progress', 0);
    await env.scheduler.deleteJob(admin, job.id);
    expect(logs.ended).toEqual({ reason: 'deleted' });
    expect(progress.ended).toEqual({ reason: 'deleted' });
  });
});

describe('series', () => {
  const withSeries = (jobId: string, index: number, values: unknown[]): WorkerOutcome => ({
    jobId,
    index,
    ms: 1,
    ok: true,
    value: index,
    series: [{ label: 'loss', values }],
  });

  it('ride the outcome seq: one item per settled task, read from a cursor, ending with the job', async () => {
    const clock = new FakeClock();
    const { job, w } = await openJob(clock, [0, 1, 2]);
    const series = grid().follow('s1', job.id, 'series', 0, 'loss');
    const [t0, t1] = w.tasks();
    answer(w.session, [withSeries(job.id, t0!.index, [0.5, 0.25]), ok(t1!)]);
    await settle();
    const t2 = w.tasks()[2]; // the job's hold limit sent two at first
    expect(series.items).toEqual([{ seq: 1, index: t0!.index, values: [0.5, 0.25] }]);
    expect(series.ended).toBeUndefined();
    answer(w.session, [withSeries(job.id, t2!.index, [{ x: 1 }])]);
    await settle();
    expect(series.items).toEqual([
      { seq: 1, index: t0!.index, values: [0.5, 0.25] },
      { seq: 3, index: t2!.index, values: [{ x: 1 }] },
    ]);
    expect(series.ended).toEqual({ reason: 'done' });
    const runtime = env.scheduler.job(admin, job.id);
    expect(await env.scheduler.feeds.streams.readSeries(runtime, 'loss', 1, 10)).toEqual([
      { seq: 3, index: t2!.index, values: [{ x: 1 }] },
    ]);
    expect(await env.scheduler.store.seriesLabels(job.id, 10)).toEqual(['loss']);
  });
});

describe('progress', () => {
  it('a snapshot of the running tasks, then coalesced changes; ends when the job stops running', async () => {
    const clock = new FakeClock();
    const { job, w } = await openJob(clock, [0, 1]);
    report(w.session, [{ jobId: job.id, index: 0, started: true, progress: 0.1 }]);
    const progress = grid().follow('s1', job.id, 'progress', 0);
    expect(progress.items).toMatchObject([{ index: 0, fraction: 0.1, workerId: w.session.id }]);
    for (let i = 1; i <= 100; i++) {
      report(w.session, [{ jobId: job.id, index: 1, progress: i / 100 }]);
    }
    expect(progress.items).toHaveLength(1); // coalesced: nothing before the push interval
    clock.advance(PROGRESS_PUSH_MS);
    expect(progress.items.slice(1)).toMatchObject([{ index: 1, fraction: 1 }]);
    answer(w.session, w.tasks().map(ok));
    await settle();
    expect(progress.ended).toEqual({ reason: 'done' });
  });
});

describe('a slow consumer', () => {
  it('of progress holds only the latest value per task, never a backlog', async () => {
    const clock = new FakeClock();
    const { job, w } = await openJob(clock, [0, 1]);
    const pushes: { index: number; fraction?: number }[][] = [];
    let ack: (() => void) | undefined;
    env.scheduler.feeds.streams.subscribe('slow', job.id, 'progress', 0, undefined, {
      push: (items, ready) => {
        pushes.push(items as { index: number; fraction?: number }[]);
        ack = ready;
      },
      end: () => undefined,
    });
    report(w.session, [{ jobId: job.id, index: 0, progress: 0.1 }]);
    clock.advance(PROGRESS_PUSH_MS);
    expect(pushes).toHaveLength(1); // delivered, not acked yet
    for (let i = 2; i <= 9; i++) {
      report(w.session, [
        { jobId: job.id, index: 0, progress: i / 10 },
        { jobId: job.id, index: 1, progress: i / 100 },
      ]);
      clock.advance(PROGRESS_PUSH_MS);
    }
    expect(pushes).toHaveLength(1);
    ack!();
    expect(pushes).toHaveLength(2);
    expect(pushes[1]).toMatchObject([
      { index: 0, fraction: 0.9 },
      { index: 1, fraction: 0.09 },
    ]);
  });
});

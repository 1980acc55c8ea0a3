import { describe, expect, it } from 'vitest';
import type { WorkerOutcome } from '@tabgrid/protocol/worker';
import { FailureWatch, stoppedReason } from './failure-watch.js';
import { admin, answer, connect, env, restart, settle, useHarness } from './testing/harness.js';
import { RecordingOutcomeSink } from './testing/recording-outcome-sink.js';

useHarness();

const failure = (type: string, message: string, name = 'TypeError') => ({
  ok: false,
  payload: JSON.stringify({ name, message, stack: '', type }),
});
const success = { ok: true, payload: '1' };

describe('FailureWatch', () => {
  it('fires once its first N outcomes failed with the same type and message (numbers aside)', () => {
    const watch = new FailureWatch(3);
    expect(watch.see([failure('program', 'bad pixel 7'), failure('program', 'bad pixel 57')])).toBe(
      undefined,
    );
    expect(watch.see([failure('program', 'bad pixel 8')])).toBe(
      'stopped after 3 tasks failed with the same error: TypeError: bad pixel 7',
    );
    expect(watch.watching).toBe(false);
    expect(watch.see([failure('program', 'bad pixel 9')])).toBeUndefined(); // fires once
  });

  it('never fires after a success, a different message or a different type', () => {
    for (const second of [success, failure('program', 'other'), failure('timeout', 'x')]) {
      const watch = new FailureWatch(2);
      expect(watch.see([failure('program', 'x'), second, failure('program', 'x')])).toBeUndefined();
      expect(watch.watching).toBe(false);
    }
  });

  it('quotes a long message cut short', () => {
    const reason = stoppedReason(5, 'Error', 'y'.repeat(1000));
    expect(reason.length).toBeLessThan(400);
    expect(reason).toMatch(/^stopped after 5 tasks failed with the same error: Error: y+…$/);
  });
});

const PROGRAM = 'function Run(d){ return d.x.y }';
const thrown = (jobId: string, index: number, message = 'x is undefined'): WorkerOutcome => ({
  jobId,
  index,
  ms: 1,
  ok: false,
  error: { name: 'TypeError', message, stack: 'TypeError: ...\n    at Run (job.js:1:25)' },
});

/** Answers every task the worker has not answered yet with `answerOf`, until none come. */
async function runAll(
  w: ReturnType<typeof connect>,
  answerOf: (index: number) => WorkerOutcome,
): Promise<void> {
  let answered = 0;
  for (let round = 0; round < 20; round++) {
    await settle();
    const fresh = w.tasks().slice(answered);
    if (fresh.length === 0) return;
    answered += fresh.length;
    answer(
      w.session,
      fresh.map((t) => answerOf(t.index)),
    );
  }
}

describe('maxFailures', () => {
  it('cancels a job whose first N tasks fail alike, with a reason its info and streams show', async () => {
    const job = await env.scheduler.createJob(admin, { program: PROGRAM, maxFailures: 3 });
    expect(job.maxFailures).toBe(3);
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(50).keys()]);
    await env.scheduler.closeJob(admin, job.id);
    const sink = new RecordingOutcomeSink();
    env.scheduler.streams.subscribe('s', job.id, 'all', 0, sink);
    const w = connect(1); // one at a time: exactly 3 run
    await runAll(w, (index) => thrown(job.id, index));
    await settle();
    const info = env.scheduler.job(admin, job.id).info();
    const reason = 'stopped after 3 tasks failed with the same error: TypeError: x is undefined';
    expect(info).toMatchObject({ state: 'cancelled', cancelReason: reason, failed: 50 });
    expect(w.tasks()).toHaveLength(3); // the rest never ran
    expect(sink.ended).toEqual({ reason: 'cancelled', message: reason });
    const types = sink.items.map((o) => (o.ok ? 'ok' : o.error.type));
    expect(types.filter((t) => t === 'program')).toHaveLength(w.tasks().length);
    expect(types.filter((t) => t === 'cancelled')).toHaveLength(50 - w.tasks().length);
    expect(w.frames).toContainEqual(expect.objectContaining({ type: 'cancel', jobId: job.id }));
  });

  it('runs a job to the end when a task succeeds among its first N, or its errors differ', async () => {
    const lucky = await env.scheduler.createJob(admin, { program: PROGRAM, maxFailures: 2 });
    const mixed = await env.scheduler.createJob(admin, { program: PROGRAM, maxFailures: 2 });
    for (const job of [lucky, mixed]) {
      await env.scheduler.submit(admin, job.id, 'b1', [...Array(6).keys()]);
      await env.scheduler.closeJob(admin, job.id);
    }
    const w = connect(1);
    const outcome = (jobId: string, index: number): WorkerOutcome => {
      if (jobId === lucky.id)
        return index === 0 ? { jobId, index, ms: 1, ok: true, value: 1 } : thrown(jobId, index);
      return thrown(jobId, index, index % 2 === 0 ? 'x is undefined' : 'y is null');
    };
    let answered = 0;
    for (let round = 0; round < 30; round++) {
      await settle();
      const fresh = w.tasks().slice(answered);
      if (fresh.length === 0) break;
      answered += fresh.length;
      answer(
        w.session,
        fresh.map((t) => outcome(t.jobId, t.index)),
      );
    }
    await settle();
    for (const job of [lucky, mixed]) {
      expect(env.scheduler.job(admin, job.id).info()).toMatchObject({
        state: 'done',
        cancelReason: null,
      });
    }
  });

  it('counts the failures settled before a restart', async () => {
    const job = await env.scheduler.createJob(admin, { program: PROGRAM, maxFailures: 3 });
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(10).keys()]);
    await env.scheduler.closeJob(admin, job.id);
    let w = connect(1);
    await settle();
    answer(w.session, [thrown(job.id, w.tasks()[0]!.index)]);
    await settle();
    answer(w.session, [thrown(job.id, w.tasks()[1]!.index)]);
    await settle();
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ state: 'closed', failed: 2 });
    await restart();
    w = connect(1);
    await settle();
    answer(w.session, [thrown(job.id, w.tasks()[0]!.index)]);
    await settle();
    await settle();
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({
      state: 'cancelled',
      cancelReason: 'stopped after 3 tasks failed with the same error: TypeError: x is undefined',
      failed: 10,
    });
    // Durable: the reason survives another restart.
    await restart();
    expect(env.scheduler.job(admin, job.id).info().cancelReason).toMatch(/^stopped after 3 tasks/);
  });

  it('is off by default', async () => {
    const job = await env.scheduler.createJob(admin, { program: PROGRAM });
    expect(job.maxFailures).toBeNull();
  });
});

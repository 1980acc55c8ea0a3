import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Outcome } from '@tabgrid/protocol/jobs';
import { FakeClock } from './testing/fake-clock.js';
import {
  admin,
  answer,
  connect,
  env,
  ok,
  reopen,
  restart,
  settle,
  useHarness,
} from './testing/harness.js';
import { RecordingOutcomeSink } from './testing/recording-outcome-sink.js';

useHarness();

const PROGRAM = 'function Run(d){return d}';
const HASH = createHash('sha256').update(PROGRAM).digest('hex');

/** Everything the job's stream of `kind` delivers until it ends (from the store, after settle). */
async function read(
  jobId: string,
  options: { provenance?: boolean } = {},
  kind: 'all' | 'results' | 'errors' = 'all',
): Promise<RecordingOutcomeSink> {
  const sink = new RecordingOutcomeSink();
  env.scheduler.streams.subscribe(`s-${Math.random()}`, jobId, kind, 0, sink, options);
  await settle();
  return sink;
}

const byIndex = (items: Outcome[]) => [...items].sort((a, b) => a.index - b.index);

describe('provenance', () => {
  it('gives each outcome who settled it, which attempt, its run and queued times and the program hash (fake clock)', async () => {
    const clock = new FakeClock();
    await reopen({ clock });
    const job = await env.scheduler.createJob(admin, { program: PROGRAM, maxAttempts: 3 });
    expect(job.programHash).toBe(HASH);
    await env.scheduler.submit(admin, job.id, 'b1', [10, 11, 12]);
    await env.scheduler.closeJob(admin, job.id);
    clock.advance(250); // queued 250 ms before any worker comes
    const w = connect(2);
    await settle();
    const [t0, t1] = w.tasks();
    // Task 0 succeeds at once; task 1 times out, and its second attempt goes out 100 ms later.
    answer(w.session, [
      { ...ok(t0!), ms: 12.5 },
      {
        jobId: job.id,
        index: t1!.index,
        ms: 1000,
        ok: false,
        error: { name: 'TimeoutError', message: 'too slow', stack: '', timedOut: true },
      },
    ]);
    clock.advance(100);
    await settle();
    const later = w.tasks().slice(2);
    expect(later.map((t) => t.index).sort()).toEqual([1, 2]);
    answer(
      w.session,
      later.map((t) => ({ ...ok(t), ms: 3 })),
    );
    await settle();
    expect(env.scheduler.job(admin, job.id).record.state).toBe('done');

    const withProvenance = await read(job.id, { provenance: true });
    expect(withProvenance.ended).toEqual({ reason: 'done' });
    expect(byIndex(withProvenance.items).map((o) => o.provenance)).toEqual([
      { workerId: w.session.id, attempt: 1, runMs: 12.5, queuedMs: 250, programHash: HASH },
      { workerId: w.session.id, attempt: 2, runMs: 3, queuedMs: 350, programHash: HASH },
      { workerId: w.session.id, attempt: 1, runMs: 3, queuedMs: 350, programHash: HASH },
    ]);
    // A stream that did not ask carries none.
    const plain = await read(job.id);
    expect(plain.items).toHaveLength(3);
    for (const o of plain.items) expect(o).not.toHaveProperty('provenance');

    // Durable: the same after a restart.
    await restart({ clock });
    const again = await read(job.id, { provenance: true }, 'results');
    expect(byIndex(again.items).map((o) => o.provenance)).toEqual(
      byIndex(withProvenance.items).map((o) => o.provenance),
    );
  });

  it('says no worker and attempt 0 for a task cancelled before it ran, and gives errors theirs', async () => {
    const job = await env.scheduler.createJob(admin, { program: PROGRAM });
    await env.scheduler.submit(admin, job.id, 'b1', [1, 2]);
    const w = connect(1);
    await settle();
    const [t] = w.tasks();
    answer(w.session, [
      {
        jobId: job.id,
        index: t!.index,
        ms: 4,
        ok: false,
        error: { name: 'TypeError', message: 'x is undefined', stack: 'at Run' },
      },
    ]);
    await settle();
    await env.scheduler.cancelJob(admin, job.id);
    await settle();
    const errors = await read(job.id, { provenance: true }, 'errors');
    expect(errors.ended).toEqual({ reason: 'cancelled' }); // its owner cancelled: no reason
    expect(byIndex(errors.items).map((o) => [o.ok ? '' : o.error.type, o.provenance])).toEqual([
      [
        'program',
        {
          workerId: w.session.id,
          attempt: 1,
          runMs: 4,
          queuedMs: expect.any(Number),
          programHash: job.programHash,
        },
      ],
      [
        'cancelled',
        { workerId: null, attempt: 0, runMs: null, queuedMs: null, programHash: job.programHash },
      ],
    ]);
  });
});

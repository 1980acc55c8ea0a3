/**
 * The dashboard's job detail shows the task model: the running tasks' progress, the newest 50
 * log lines (of many) and the series labels, read through the real scheduler on MemoryJobStore.
 */
import { expect, it } from 'vitest';
import { FakeClock } from './testing/fake-clock.js';
import {
  admin,
  answer,
  connect,
  env,
  reopen,
  report,
  settle,
  useHarness,
} from './testing/harness.js';

useHarness();

it('the job detail carries the running tasks, the newest 50 log lines and the series labels', async () => {
  await reopen({ clock: new FakeClock() });
  const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
  await env.scheduler.submit(admin, job.id, 'b1', [0, 1]);
  await env.scheduler.closeJob(admin, job.id);
  const w = connect(2);
  await settle();
  const [t0, t1] = w.tasks();
  const at = Date.UTC(2026, 0, 1, 12);
  const lines = Array.from({ length: 60 }, (_, i) => ({
    level: 'log' as const,
    message: `line ${i + 1}`,
    count: i === 59 ? 50 : 1,
    at,
  }));
  report(w.session, [
    { jobId: job.id, index: t0!.index, started: true, progress: 0.25, logs: lines },
  ]);
  answer(w.session, [
    {
      jobId: job.id,
      index: t1!.index,
      ms: 1,
      ok: true,
      value: 1,
      series: [{ label: 'loss', values: [0.5] }],
    },
  ]);
  await settle();

  const { detail } = await env.scheduler.statsCollector.snapshot(admin, job.id);
  expect(detail?.progress).toEqual([
    {
      index: t0!.index,
      fraction: 0.25,
      workerId: w.session.id,
      at: expect.any(String) as unknown,
    },
  ]);
  expect(detail?.logTail).toHaveLength(50);
  expect(detail?.logTail?.[0]).toMatchObject({ seq: 11, message: 'line 11' });
  expect(detail?.logTail?.at(-1)).toMatchObject({ seq: 60, message: 'line 60', count: 50 });
  expect(detail?.seriesLabels).toEqual(['loss']);
});

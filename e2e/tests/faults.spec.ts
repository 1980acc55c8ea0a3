import { expect, test } from '@playwright/test';
import { assertExactlyOnce } from '@tabgrid/server/testing';
import { gridPerTest } from '../support/grid.js';

const grid = gridPerTest();

test('Run that loops forever settles as `timeout` after maxAttempts; the tab keeps computing', async () => {
  const page = await grid.openTab();
  const job = await grid.tg.createJob({
    program: 'function Run(d) { if (d === 5) { for (;;) {} } return d * 10 }',
    timeoutMs: 1000,
    maxAttempts: 2,
  });
  const results = new Map<number, unknown>();
  const errors = new Map<number, { type: string; name: string }>();
  for await (const out of job.run(Array.from({ length: 40 }, (_, i) => i))) {
    if (out.ok) results.set(out.index, out.value);
    else errors.set(out.index, out.error);
  }
  expect([...errors.keys()]).toEqual([5]);
  expect(errors.get(5)).toMatchObject({ type: 'timeout', name: 'TimeoutError' });
  expect(results.size).toBe(39);
  for (const [index, value] of results) expect(value).toBe(index * 10);
  // Still healthy and computing after two terminated threads.
  const after = await grid.tg.createJob({ program: (d: number) => d + 1 });
  expect(await after.map([1, 2, 3])).toEqual([2, 3, 4]);
  await expect(page.getByTestId('connection-state')).toHaveText('connected');
});

test('a tab closed mid-job: its tasks are handed to another tab within 2 s, not after the timeout', async () => {
  const doomed = await grid.openTab();
  const scheduler = grid.server.scheduler;
  const [doomedWorker] = [...scheduler.workers.all()];
  const job = await grid.tg.createJob({
    program:
      'function Run(d) { const end = Date.now() + 25; while (Date.now() < end) {} return d }',
    timeoutMs: 60_000,
  });
  await job.submit(Array.from({ length: 300 }, (_, i) => i));
  await job.close();
  const runtime = () =>
    scheduler.job({ name: 'admin', owner: 'admin', role: 'admin', seesAll: true }, job.id);
  await expect.poll(() => doomedWorker!.inFlight).toBeGreaterThan(0);
  const survivor = await grid.openTab('?autostart=1');
  const closedAt = Date.now();
  await doomed.close();
  // Within 2 s the server holds no lease of the closed tab any more: they are queued or running elsewhere.
  await expect
    .poll(
      () =>
        [...runtime().leases.values()].filter((l) => l.grant.owner.connection === doomedWorker!.id)
          .length,
      {
        timeout: 2_000,
        intervals: [50],
      },
    )
    .toBe(0);
  expect(Date.now() - closedAt).toBeLessThan(2_000);
  const results = [];
  for await (const r of job.results()) results.push(r);
  assertExactlyOnce(300, results);
  await expect(survivor.getByTestId('tasks-done')).not.toHaveText('0');
});

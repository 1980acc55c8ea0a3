import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { FakeClock } from '../core/testing/fake-clock.js';
import { memoryLog } from '../testing/memory-log.js';
import { tempDir } from '../testing/temp-dir.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { until } from '../testing/until.js';
import { DAY_MS, Retention } from './retention.js';

let site: TestServer | undefined;
afterEach(async () => {
  await site?.close();
  site = undefined;
});

const dirBytes = (dir: string) =>
  readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);

it('deletes finished jobs older than TABGRID_RETAIN_DAYS, keeps running and recent ones, gives space back', async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const log = memoryLog();
  site = await startTestServer({ listen: false, clock, loggerInstance: log.logger });
  const { app, grid } = site.server;
  const create = async (name: string) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: site!.auth,
      payload: { name, program: 'function Run(d) { return d }' },
    });
    return res.json<{ id: string }>().id;
  };
  const post = (id: string, verb: string) =>
    app.inject({ method: 'POST', url: `/api/jobs/${id}/${verb}`, headers: site!.auth });
  const old = await create('old-big');
  // Big enough that its deletion gives pages back.
  const big = Array.from({ length: 3000 }, () => JSON.stringify('y'.repeat(1000))).join('\n');
  await app.inject({
    method: 'POST',
    url: `/api/jobs/${old}/tasks`,
    headers: site.auth,
    payload: big,
  });
  const oldCancelled = await create('old-cancelled');
  await post(oldCancelled, 'cancel');
  const oldOpen = await create('old-but-running');
  await post(old, 'cancel'); // cancelled: its 3,000 tasks settle as `cancelled`
  await until(() => grid.finishedBefore(Number.MAX_SAFE_INTEGER).includes(old), {
    timeoutMs: 20_000,
  });
  clock.advance(20 * DAY_MS);
  const recent = await create('recent-done');
  await post(recent, 'close'); // no tasks: done at once
  const before = dirBytes(site.dataDir);

  clock.advance(15 * DAY_MS); // old ones: 35 days; recent: 15
  const retention = new Retention({
    grid,
    reclaimSpace: () => site!.server.scheduler.store.reclaimSpace!(),
    clock,
    log: log.logger,
    retainDays: 30,
  });
  const swept = await retention.sweep();
  expect(swept.deleted).toBe(2);
  expect(swept.bytesFreed).toBeGreaterThan(1_000_000);
  expect(dirBytes(site.dataDir)).toBeLessThan(before);
  const left = (await app.inject({ url: '/api/jobs', headers: site.auth }))
    .json<{ name: string }[]>()
    .map((j) => j.name)
    .sort();
  expect(left).toEqual(['old-but-running', 'recent-done']);
  expect(grid.finishedBefore(Number.MAX_SAFE_INTEGER)).toEqual([recent]);
  expect(oldOpen).toBeTruthy();
  expect(log.lines()).toContainEqual(
    expect.objectContaining({
      level: 'info',
      deleted: 2,
      retainDays: 30,
      msg: 'retention: deleted 2 finished jobs older than 30 days',
    }),
  );
  // Nothing more to do: a second sweep deletes nothing and says nothing.
  expect(await retention.sweep()).toEqual({ deleted: 0, bytesFreed: 0 });
}, 60_000);

it('runs at start when the app is given retainDays', async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const data = tempDir('tabgrid-retain-');
  try {
    const first = await startTestServer({ listen: false, clock, dataDir: data.path });
    const res = await first.server.app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: first.auth,
      payload: { name: 'gone', program: 'function Run(d) { return d }' },
    });
    const { id } = res.json<{ id: string }>();
    await first.server.app.inject({
      method: 'POST',
      url: `/api/jobs/${id}/close`,
      headers: first.auth,
    });
    await first.close();
    clock.advance(40 * DAY_MS); // the same data directory, reopened 40 days later
    site = await startTestServer({ listen: false, clock, dataDir: data.path, retainDays: 30 });
    const { app } = site.server;
    await until(
      async () =>
        (await app.inject({ url: '/api/jobs', headers: site!.auth })).json<unknown[]>().length ===
        0,
      { timeoutMs: 10_000, what: 'the retention sweep at start' },
    );
  } finally {
    await site?.close();
    site = undefined;
    data.remove();
  }
}, 30_000);

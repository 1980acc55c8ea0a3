/**
 * Issue #13 over real sockets: `report` frames from a worker connection reach the job's logs
 * and events (through the protocol's decoder and the worker socket route), forged ones are
 * counted, and `tell` reaches workers now and later, in order. Raw workers (NodeWorker).
 */
import { describe, expect, it } from 'vitest';
import type { Caller } from './auth/caller.js';
import { NodeWorker } from './testing/node-worker.js';
import type { TestServer } from './testing/test-server.js';
import { until } from './testing/until.js';
import { serversPerTest } from './testing/vitest.js';

const servers = serversPerTest();
const admin: Caller = { name: 'admin', owner: 'admin', role: 'admin', seesAll: true };

async function greeted(env: TestServer, credit = 10): Promise<NodeWorker> {
  const worker = new NodeWorker(env.wsUrl, { credit, beforeTask: () => false }); // holds its tasks
  await worker.opened;
  const welcome = new Promise((resolve) => worker.socket.once('message', resolve));
  worker.hello();
  await welcome;
  return worker;
}

describe('the task model over the worker socket', () => {
  it('keeps the holder’s report, counts a stranger’s as forged, and tells both workers in order', async () => {
    const env = await servers.start();
    const { grid } = env.server;
    const job = await grid.createJob(admin, { program: 'function Run(d){return d}' });
    await grid.submit(admin, job.id, 'b1', [1]);
    const holder = await greeted(env, 1);
    await until(() => grid.job(admin, job.id).info().inFlight === 1);

    holder.report([
      {
        jobId: job.id,
        index: 0,
        started: true,
        progress: 0.5,
        logs: [{ level: 'info', message: 'half', count: 3, at: 1 }],
      },
      { jobId: job.id, index: null, events: [{ name: 'ready', data: { ok: true }, at: 2 }] },
    ]);
    await until(async () => (await grid.readFeed(admin, job.id, 'logs', 0, 10)).length === 1);
    expect(await grid.readFeed(admin, job.id, 'logs', 0, 10)).toMatchObject([
      { seq: 1, index: 0, level: 'info', message: 'half', count: 3, at: new Date(1).toISOString() },
    ]);
    await until(async () => (await grid.readFeed(admin, job.id, 'events', 0, 10)).length === 1);
    // The dashboard's job page shows the running task's progress and the log tail.
    const { detail } = await grid.snapshot(admin, job.id);
    expect(detail).toMatchObject({
      progress: [{ index: 0, fraction: 0.5, workerId: expect.any(String) as string }],
      logTail: [{ seq: 1, message: 'half', count: 3 }],
      seriesLabels: [],
    });

    const stranger = await greeted(env, 0);
    stranger.report([
      { jobId: job.id, index: 0, logs: [{ level: 'log', message: 'forged', count: 1, at: 1 }] },
    ]);
    await until(() => grid.health().forged === 1);
    expect(grid.job(admin, job.id).info().logs).toEqual({ lines: 1, dropped: 0 });

    expect(await grid.tell(admin, job.id, { go: 1 })).toEqual({ seq: 1 });
    await until(() => holder.messages.length === 1);
    expect(holder.messages).toEqual([{ jobId: job.id, seq: 1, data: { go: 1 } }]);
    expect(stranger.messages).toEqual([]); // it never had the program

    await grid.submit(admin, job.id, 'b2', [2]);
    const later = await greeted(env, 1);
    await until(() => later.messages.length === 1);
    expect(later.messages).toEqual([{ jobId: job.id, seq: 1, data: { go: 1 } }]);
    expect(grid.latestJob(admin, job.name)?.record.id).toBe(job.id);
    // Gone before the server closes, so their leases are settled while its store is open.
    for (const w of [holder, stranger, later]) w.close();
    await until(() => grid.health().workers === 0);
  });
});

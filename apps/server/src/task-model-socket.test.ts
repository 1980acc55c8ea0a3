/**
 * Issue #13, the lifecycle and the monitor over real sockets and the SQLite store: a Setup
 * failure settles as `setup`, series ride in outcome frames into the store with their outcome,
 * `sample` frames reach the monitor and lying ones count as forged (through the protocol's
 * decoder and the worker socket route). Raw workers (NodeWorker) that hold their tasks and
 * answer by hand.
 */
import { carriedText } from '@tabgrid/protocol/packed-value';
import { describe, expect, it } from 'vitest';
import type { TaskFailure } from '@tabgrid/protocol/jobs';
import type { Caller } from './auth/caller.js';
import { NodeWorker } from './testing/node-worker.js';
import type { TestServer } from './testing/test-server.js';
import { until } from './testing/until.js';
import { serversPerTest } from './testing/vitest.js';

const servers = serversPerTest();
const admin: Caller = { name: 'admin', owner: 'admin', role: 'admin', seesAll: true };

/** A welcomed worker that records the tasks it is sent and answers none by itself. */
async function holding(env: TestServer, credit = 10) {
  const held: { jobId: string; index: number }[] = [];
  const worker = new NodeWorker(env.wsUrl, {
    credit,
    beforeTask: (jobId, index) => {
      held.push({ jobId, index });
      return false;
    },
  });
  env.adopt(worker);
  await worker.opened;
  const welcome = new Promise((resolve) => worker.socket.once('message', resolve));
  worker.hello();
  await welcome;
  return { worker, held };
}

describe('the task model’s lifecycle over the worker socket', () => {
  it('a Setup failure settles its task as `setup` once its attempts are spent', async () => {
    const env = await servers.start();
    const { grid } = env.server;
    const job = await grid.createJob(admin, {
      program: 'function Setup(){ throw new Error("no") }\nfunction Run(d){return d}',
      maxAttempts: 1,
    });
    await grid.submit(admin, job.id, 'b1', [1]);
    const { worker, held } = await holding(env, 1);
    await until(() => held.length === 1);
    worker.send({
      type: 'outcomes',
      credit: 1,
      items: [
        {
          jobId: job.id,
          index: 0,
          ms: 0,
          ok: false,
          error: {
            name: 'Error',
            message: 'Setup did not finish within setupTimeoutMs (500 ms)',
            stack: '',
            timedOut: true,
            phase: 'setup',
          },
        },
      ],
    });
    await until(() => grid.job(admin, job.id).info().failed === 1);
    const [row] = await env.server.scheduler.store.readOutcomes(job.id, 0, 'errors', 10);
    expect(JSON.parse(carriedText(row!.payload)) as TaskFailure).toMatchObject({
      type: 'setup',
      message: 'Setup did not finish within setupTimeoutMs (500 ms)',
    });
  });

  it('series ride in the outcome frame into the store, with their outcome', async () => {
    const env = await servers.start();
    const { grid } = env.server;
    const job = await grid.createJob(admin, { program: 'function Run(d){return d}' });
    await grid.submit(admin, job.id, 'b1', [1, 2]);
    await grid.closeJob(admin, job.id);
    const { worker, held } = await holding(env, 2);
    await until(() => held.length === 2);
    worker.send({
      type: 'outcomes',
      credit: 2,
      items: held.map(({ jobId, index }) => ({
        jobId,
        index,
        ms: 1,
        ok: true,
        value: index,
        series: [{ label: 'loss', values: [index, index / 2] }],
      })),
    });
    await until(() => grid.job(admin, job.id).info().state === 'done');
    const store = env.server.scheduler.store;
    const rows = await store.readSeries(job.id, 'loss', 0, 10);
    expect(rows.map((r) => [r.index, r.values]).sort()).toEqual([
      [0, '[0,0]'],
      [1, '[1,0.5]'],
    ]);
    const outcomes = await store.readOutcomes(job.id, 0, 'all', 10);
    for (const r of rows) expect(outcomes.find((o) => o.index === r.index)!.seq).toBe(r.seq);
    expect(await store.seriesLabels(job.id, 10)).toEqual(['loss']);
  });

  it('samples reach the monitor; one claiming more threads than the hello is forged', async () => {
    const env = await servers.start();
    const { grid } = env.server;
    const job = await grid.createJob(admin, { program: 'function Run(d){return d}' });
    await grid.submit(admin, job.id, 'b1', [1]);
    const { worker, held } = await holding(env, 1);
    await until(() => held.length === 1);
    await new Promise((r) => setTimeout(r, 150)); // some time to measure against
    const sample = (busyMs: number[]) => ({
      type: 'sample',
      busyMs,
      intervalMs: 100,
      tasks: 0,
      heapUsed: 4_000_000,
      jobs: [{ jobId: job.id, busyMs: 50 }],
    });
    worker.send(sample([50]));
    await until(() => grid.workers(admin)[0]?.samples.length === 1);
    const [view] = grid.workers(admin);
    expect(view!.samples[0]).toMatchObject({ cpu: 0.5, heapUsed: 4_000_000 });
    expect(view!.jobs).toEqual([{ jobId: job.id, cpuMs: 50, peakHeapBytes: 4_000_000 }]);
    worker.send(sample([50, 50])); // 2 threads, hello said 1
    await until(() => grid.health().forged === 1);
    expect(grid.workers(admin)[0]!.samples).toHaveLength(1);
  });
});

/**
 * Two nodes in one process on one PostgreSQL database (issue 15): what one node does to a job
 * reaches the other. A job created on one is found on the other; a cancel on one ends the other's
 * streams once every task settled as `cancelled`; a job deleted on one goes on the other; a worker
 * on one node runs a job submitted on the other, whose dashboard lists that worker.
 */
import { afterEach, expect, it } from 'vitest';
import type { TaskOutcome } from '@tabgrid/sdk';
import { describeWithPostgres } from '../store/postgres/pg-test-database.js';
import type { Caller } from '../auth/caller.js';
import { assertExactlyOnce } from '../testing/exactly-once.js';
import { NodeWorker } from '../testing/node-worker.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { until } from '../testing/until.js';

describeWithPostgres('two nodes on one PostgreSQL', (serverUrl) => {
  let db: TestDatabase | undefined;
  let nodes: TestServer[] = [];

  async function twoNodes(): Promise<[TestServer, TestServer]> {
    db = await createTestDatabase(serverUrl);
    for (const node of ['a', 'b']) {
      nodes.push(await startTestServer({ databaseUrl: db.url, cluster: { node } }));
    }
    return nodes as [TestServer, TestServer];
  }

  afterEach(async () => {
    for (const node of nodes) await node.close();
    await db?.drop();
    nodes = [];
    db = undefined;
  });

  it('runs a job submitted on one node on a worker of the other, whose dashboard lists it', async () => {
    const [a, b] = await twoNodes();
    const worker = b.adopt(new NodeWorker(b.wsUrl, { credit: 50 }));
    await worker.opened;
    worker.hello();
    const job = await a.tg.createJob({ program: 'function Run(d) { return d + 1 }' });
    const outcomes: TaskOutcome[] = [];
    for await (const out of job.run(Array.from({ length: 3000 }, (_, i) => i))) outcomes.push(out);
    assertExactlyOnce(3000, outcomes, { expected: (i) => i + 1 });
    expect(worker.done.length).toBe(3000);
    // Node a has no worker of its own; its dashboard lists b's (published with b's heartbeat).
    const caller: Caller = { name: 'admin', owner: 'admin', role: 'admin', seesAll: true };
    await until(
      async () => {
        const stats = await a.server.scheduler.statsCollector.snapshot(caller);
        return stats.workers.length === 1 && stats.sample.workers === 1;
      },
      { timeoutMs: 10_000, what: "b's worker on a's dashboard" },
    );
  }, 60_000);

  it('a cancel on one node ends the other node’s streams after every task settled as cancelled', async () => {
    const [a, b] = await twoNodes();
    const job = await a.tg.createJob({ program: 'function Run(d) { return d }' });
    await job.submit(Array.from({ length: 500 }, (_, i) => i));
    const seen: { type: string }[] = [];
    await job.close();
    // The stream ends as the SDK ends a cancelled job's: its outcomes first, then the error.
    const reading = (async () => {
      for await (const out of job.errors()) seen.push(out);
    })().then(
      () => undefined,
      (err: unknown) => err,
    );
    const onB = b.tg.job(job.id);
    await until(async () => (await onB.status().catch(() => undefined))?.total === 500, {
      what: 'the job on node b',
    });
    await onB.cancel();
    const ended = await reading; // node a's stream ends by itself
    expect(String(ended)).toMatch(/was cancelled/);
    expect(seen).toHaveLength(500);
    expect(seen.every((e) => e.type === 'cancelled')).toBe(true);
    expect(await job.status()).toMatchObject({ state: 'cancelled', total: 500, failed: 500 });
  }, 60_000);

  it("a message told on one node reaches the job's threads on the other", async () => {
    const [a, b] = await twoNodes();
    // It holds its tasks without answering: it keeps the job's program, so it is told.
    const worker = b.adopt(new NodeWorker(b.wsUrl, { credit: 10, beforeTask: () => false }));
    await worker.opened;
    worker.hello();
    const job = await a.tg.createJob({ program: 'function Run(d) { return d }' });
    await job.submit([1, 2, 3]);
    await until(() => (b.server.scheduler.findJob(job.id)?.leases.size ?? 0) > 0, {
      timeoutMs: 10_000,
      what: "the job's tasks on node b's worker",
    });
    expect(await job.tell({ stop: true })).toEqual({ seq: 1 });
    await until(() => worker.messages.length === 1, {
      timeoutMs: 10_000,
      what: 'the message on b',
    });
    expect(worker.messages).toEqual([{ jobId: job.id, seq: 1, data: { stop: true } }]);
    // Told on b next, it follows a's.
    expect(await b.tg.job(job.id).tell('two')).toEqual({ seq: 2 });
  }, 30_000);

  it('a job deleted on one node goes on the other', async () => {
    const [a, b] = await twoNodes();
    const job = await a.tg.createJob({ program: 'function Run(d) { return d }' });
    await until(async () => (await b.tg.jobs()).some((j) => j.id === job.id), {
      what: 'the job listed on node b',
    });
    await job.delete();
    await until(async () => !(await b.tg.jobs()).some((j) => j.id === job.id), {
      what: 'the job gone from node b',
    });
    await expect(b.tg.job(job.id).status()).rejects.toThrow(/No job with id/);
  }, 30_000);
});

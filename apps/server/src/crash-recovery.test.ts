/**
 * The server process is SIGKILLed mid-job three times and restarted on the same data dir: the
 * SDK consumer still receives every index exactly once, with the right values.
 */
import { afterAll, expect, it } from 'vitest';
import { Tabgrid, type TaskOutcome } from '@tabgrid/sdk';
import { assertExactlyOnce } from './testing/exactly-once.js';
import { NodeWorker } from './testing/node-worker.js';
import { freePort, startServerProcess, type ServerProcess } from './testing/server-process.js';
import { tempDir } from './testing/temp-dir.js';

const dataDir = tempDir('tabgrid-crash-');
let server: ServerProcess | undefined;
let workers: NodeWorker[] = [];

/** The server (again) on `port` and the same data dir, with two workers. */
async function start(port: number): Promise<void> {
  server = await startServerProcess({ dataDir: dataDir.path, port });
  workers = [];
  for (let i = 0; i < 2; i++) {
    const worker = new NodeWorker(server.wsUrl, { credit: 200 });
    await worker.opened;
    worker.hello();
    workers.push(worker);
  }
}

afterAll(async () => {
  await server?.kill();
  dataDir.remove();
});

it('a 50,000-task job survives three SIGKILLs of the server: every index once, right values', async () => {
  const port = await freePort();
  await start(port);
  const tg = new Tabgrid({ url: server!.url, token: server!.adminToken });
  const job = await tg.createJob({ program: 'function Run(d) { return d * 3 }' });
  const total = 50_000;
  const outcomes: TaskOutcome[] = [];
  // The first kill usually lands while the submission is still streaming up.
  const killAt = [1_000, 20_000, 40_000];
  let restarts = Promise.resolve();
  for await (const out of job.run(Array.from({ length: total }, (_, i) => i))) {
    outcomes.push(out);
    if (outcomes.length === killAt[0]) {
      killAt.shift();
      restarts = restarts.then(async () => {
        await server!.kill();
        await start(port);
      });
    }
  }
  await restarts;
  expect(killAt).toEqual([]);
  // Every index once with its right value, and no seq twice.
  assertExactlyOnce(total, outcomes, { expected: (i) => i * 3 });
  expect(outcomes).toHaveLength(total);
  expect(await job.status()).toMatchObject({ state: 'done', total, finished: total });
  for (const worker of workers) worker.close();
  await tg.close();
}, 120_000);

/**
 * The server process is SIGKILLed mid-job three times and restarted on the same data dir: the
 * SDK consumer still receives every index exactly once, with the right values. Once on the same
 * address (a restart), once on another address each time, the SDK given every address
 * (`url: [u1, u2, …]`): it fails over to wherever the server came back and resumes there.
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

it.each([
  { where: 'on the same address', moves: false },
  { where: 'on another address each time, the SDK failing over', moves: true },
])(
  'a 50,000-task job survives three SIGKILLs of the server $where: every index once, right values',
  async ({ moves }) => {
    const ports = moves
      ? [await freePort(), await freePort(), await freePort(), await freePort()]
      : [await freePort()];
    await start(ports[0]!);
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    const tg = new Tabgrid({ url: urls, token: server!.adminToken });
    const job = await tg.createJob({ program: 'function Run(d) { return d * 3 }' });
    const total = 50_000;
    const outcomes: TaskOutcome[] = [];
    // The first kill usually lands while the submission is still streaming up.
    const killAt = [1_000, 20_000, 40_000];
    let restarts = Promise.resolve();
    let next = 0;
    for await (const out of job.run(Array.from({ length: total }, (_, i) => i))) {
      outcomes.push(out);
      if (outcomes.length === killAt[0]) {
        killAt.shift();
        next = moves ? next + 1 : 0;
        const port = ports[next]!;
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
    if (moves) expect(server!.port).toBe(ports[3]);
    for (const worker of workers) worker.close();
    await tg.close();
  },
  120_000,
);

/**
 * The server process is SIGKILLed mid-job three times and restarted on the same data dir: the
 * SDK consumer still receives every index exactly once, with the right values.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { Tabgrid } from '@tabgrid/sdk';
import { NodeWorker } from './testing/node-worker.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const dataDir = mkdtempSync(join(tmpdir(), 'tabgrid-crash-'));
const TOKEN = 'crash-test-admin-token';
let server: ChildProcess | undefined;
let workers: NodeWorker[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function start(port: number): Promise<void> {
  server = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      PORT: String(port),
      TABGRID_DATA_DIR: dataDir,
      TABGRID_ADMIN_TOKEN: TOKEN,
    },
    stdio: 'ignore',
  });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  workers = [];
  for (let i = 0; i < 2; i++) {
    const worker = new NodeWorker(`ws://127.0.0.1:${port}/ws/worker`, { credit: 200 });
    await worker.opened;
    worker.hello();
    workers.push(worker);
  }
}

async function kill(): Promise<void> {
  const dying = server!;
  const exited = new Promise((resolve) => dying.once('exit', resolve));
  dying.kill('SIGKILL');
  await exited;
}

afterAll(async () => {
  if (server && server.exitCode === null) await kill();
  rmSync(dataDir, { recursive: true, force: true });
});

it('a 50,000-task job survives three SIGKILLs of the server: every index once, right values', async () => {
  const port = await freePort();
  await start(port);
  const tg = new Tabgrid({ url: `http://127.0.0.1:${port}`, token: TOKEN });
  const job = await tg.createJob({ program: 'function Run(d) { return d * 3 }' });
  const total = 50_000;
  const seen = new Uint8Array(total);
  let received = 0;
  let duplicates = 0;
  let wrong = 0;
  // The first kill usually lands while the submission is still streaming up.
  const killAt = [1_000, 20_000, 40_000];
  let restarts = Promise.resolve();
  for await (const out of job.run(Array.from({ length: total }, (_, i) => i))) {
    if (seen[out.index]) duplicates++;
    seen[out.index] = 1;
    if (!out.ok || out.value !== out.index * 3) wrong++;
    received++;
    if (received === killAt[0]) {
      killAt.shift();
      restarts = restarts.then(async () => {
        await kill();
        await start(port);
      });
    }
  }
  await restarts;
  expect(killAt).toEqual([]);
  expect(duplicates).toBe(0);
  expect(wrong).toBe(0);
  expect(received).toBe(total);
  expect(await job.status()).toMatchObject({ state: 'done', total, finished: total });
  for (const worker of workers) worker.close();
  await tg.close();
}, 120_000);

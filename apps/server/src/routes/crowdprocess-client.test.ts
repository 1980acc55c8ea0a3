/**
 * CrowdProcess's Python client reads `?stream` responses with `select()` on the socket and one
 * `readline()` per wakeup (examples/crowdprocess/select_reader.py reads the same way). Against
 * a server that simply writes the lines, it stalls with results sitting in its buffer. This runs
 * that reader for real: N = 1, 10, 200 and 5,000, twenty runs each, every value and error checked.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { NodeWorker } from '../testing/node-worker.js';
import { serverPerFile } from '../testing/vitest.js';

const script = fileURLToPath(
  new URL('../../../../examples/crowdprocess/select_reader.py', import.meta.url),
);
/** Debian's python3 first (its requests/urllib3 are what users have), then any other. */
const python = ['/usr/bin/python3', 'python3'].find(
  (bin) => spawnSync(bin, ['-c', 'import requests']).status === 0,
);

const grid = serverPerFile();

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const worker = grid.adopt(new NodeWorker(grid.wsUrl, { credit: 500 }));
    await worker.opened;
    worker.hello();
  }
});

function runReader(env: Record<string, string>): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(python!, [script], {
      env: { ...process.env, TABGRID_URL: grid.url, TABGRID_TOKEN: grid.token, ...env },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (status) => resolve({ status, out }));
  });
}

it.skipIf(!python)(
  "CrowdProcess's select + readline reader gets every result and error, 20 runs of N = 1, 10, 200, 5000",
  async () => {
    const run = await runReader({ SIZES: '1,10,200,5000', RUNS: '20', TIMEOUT: '20' });
    console.log(run.out.trim());
    expect(run.out).not.toContain('STALLED');
    for (const n of [1, 10, 200, 5000]) expect(run.out).toContain(`n=${n}: 20 runs complete`);
    expect(run.status).toBe(0);
  },
  600_000,
);

import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { gridPerTest } from '../support/grid.js';

const script = fileURLToPath(
  new URL('../../examples/crowdprocess/crowdprocess_flow.py', import.meta.url),
);

/** A Python that has `requests` (.ci/run installs Debian's python3-requests when none has). */
function python(): string | undefined {
  return ['python3', '/usr/bin/python3'].find(
    (bin) => spawnSync(bin, ['-c', 'import requests']).status === 0,
  );
}

const grid = gridPerTest();

test('the classic CrowdProcess flow in Python runs green against a real tab', async () => {
  const bin = python();
  expect(
    bin,
    'no python3 with the requests module: apt-get install -y python3-requests',
  ).toBeTruthy();
  await grid.openTab();
  const run = await new Promise<{ status: number | null; out: string }>((resolve) => {
    const child = spawn(bin!, [script], {
      env: { ...process.env, TABGRID_URL: grid.url, TABGRID_TOKEN: grid.token },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (status) => resolve({ status, out }));
  });
  expect(run.out).toContain('results: 990 errors: 10');
  expect(run.out).toMatch(/deleted job/);
  expect(run.status, run.out).toBe(0);
});

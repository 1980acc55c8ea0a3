// Throughput: a trivial job (d => d * 2) through one headless Chromium tab, end to end.
// Starts its own server (durable SQLite defaults, temp data dir) as a child process so its
// peak RSS can be read from /proc. Usage: npm run bench [-- --tasks 100000 --tabs 1]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { Tabgrid } from '@tabgrid/sdk';

const { values: opts } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    tabs: { type: 'string', default: '1' },
    floor: { type: 'string', default: '20000' },
  },
});
const TASKS = Number(opts.tasks);
const TABS = Number(opts.tabs);
const FLOOR = Number(opts.floor);
const TOKEN = 'bench-token';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function freePort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
}

async function waitHealthy(url) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not start');
}

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'tabgrid-bench-'));
const server = spawn(process.execPath, [join(root, 'apps/server/dist/main.js')], {
  env: {
    ...process.env,
    PORT: String(port),
    TABGRID_DATA_DIR: dataDir,
    TABGRID_ADMIN_TOKEN: TOKEN,
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
  ],
});
let tg;
try {
  await waitHealthy(url);
  for (let i = 0; i < TABS; i++) {
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.getByTestId('connection-state').filter({ hasText: 'connected' }).waitFor();
  }
  tg = new Tabgrid({ url, token: TOKEN });
  const job = await tg.createJob({ program: (d) => d * 2, name: 'bench-double' });
  function* inputs() {
    for (let i = 0; i < TASKS; i++) yield i;
  }
  const started = performance.now();
  let received = 0;
  let wrong = 0;
  for await (const out of job.run(inputs())) {
    received++;
    if (!out.ok || out.value !== out.index * 2) wrong++;
  }
  const seconds = (performance.now() - started) / 1000;
  const rate = TASKS / seconds;
  console.log(
    `throughput: ${Math.round(rate).toLocaleString('en-US')} tasks/s  (${TASKS.toLocaleString('en-US')} tasks, ${TABS} tab(s), ${seconds.toFixed(2)} s, submit → last result)`,
  );
  console.log(`server peak RSS: ${peakRssMb(server.pid).toFixed(0)} MB`);
  if (received !== TASKS || wrong > 0) {
    console.error(`FAILED: received ${received} of ${TASKS} outcomes, ${wrong} wrong`);
    process.exitCode = 1;
  } else if (rate < FLOOR) {
    console.log(`below the floor of ${FLOOR.toLocaleString('en-US')} tasks/s`);
  } else {
    console.log(`at or above the floor of ${FLOOR.toLocaleString('en-US')} tasks/s`);
  }
} finally {
  await tg?.close();
  await browser.close();
  server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}

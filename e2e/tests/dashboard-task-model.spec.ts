/**
 * The dashboard's view of the task model, in real Chromium with real worker tabs: a job page with
 * its series chart, running tasks' progress bars and the log tail with collapsed-line counts; the
 * Workers page plotting each tab's CPU and memory; a note (`tg.note`) as a marker on the charts;
 * and a client key that sees only what its own jobs used.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { Tabgrid } from '@tabgrid/sdk';
import { gridPerTest } from '../support/grid.js';

const SCREENSHOTS = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'test-results',
  'screenshots',
);

const grid = gridPerTest();
test.use({ viewport: { width: 1280, height: 1000 } });

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${grid.url}/dashboard/`);
  await page.getByTestId('token-input').fill(token);
  await page.getByTestId('sign-in-button').click();
  await expect(page.getByTestId('feed-status')).toHaveText('Live');
}

async function screenshot(page: Page, name: string): Promise<void> {
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await test.info().attach(name, { path, contentType: 'image/png' });
  mkdirSync(SCREENSHOTS, { recursive: true });
  copyFileSync(path, join(SCREENSHOTS, `${name}.png`));
}

async function createKey(role: 'viewer' | 'client', name: string): Promise<string> {
  const res = await fetch(`${grid.url}/api/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${grid.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, role }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { secret: string }).secret;
}

/**
 * Ten tasks: each logs one line 50 times (collapsed into one line ×50) and collects five values
 * of `loss`; tasks 0–7 compute for 0.4 s, 8 and 9 report progress until `job.tell()` says stop.
 */
const PROGRAM = `
let stop = false;
function Setup() {
  tabgrid.listen(() => { stop = true; });
}
async function Run(d) {
  for (let i = 0; i < 50; i++) console.log('tick of task', d);
  for (let i = 0; i < 5; i++) tabgrid.collect('loss', (d + 1) / (i + 1));
  tabgrid.collect('notes', 'step ' + d);
  if (d < 8) {
    const end = Date.now() + 400;
    while (Date.now() < end) {} // busy: the CPU chart has something to show
    return d;
  }
  for (let i = 1; !stop; i++) {
    tabgrid.progress(Math.min(0.9, i / 100));
    await new Promise((r) => setTimeout(r, 100));
  }
  return d;
}`;

test('a job page charts series, shows running tasks and the log tail; Workers plots CPU and memory; a note is a marker', async ({
  page,
}) => {
  await grid.openTab();
  await grid.openTab();
  await signIn(page, grid.token);

  const job = await grid.tg.createJob({
    name: 'task-model-dashboard',
    program: PROGRAM,
    timeoutMs: 120_000,
  });
  await job.submit(Array.from({ length: 10 }, (_, i) => i));
  await job.close();
  await expect.poll(async () => (await job.status()).finished, { timeout: 60_000 }).toBe(8);

  await page.goto(`${grid.url}/dashboard/#/jobs/${job.id}`);
  await expect(page.getByTestId('job-name')).toHaveText('task-model-dashboard');

  // Running tasks 8 and 9 (9 may wait behind 8 on one thread), each with a bar that has moved.
  const bars = page.getByTestId('task-progress-row');
  await expect(bars.first()).toHaveAttribute('data-index', /^[89]$/);
  expect(await bars.count()).toBeLessThanOrEqual(2);
  await expect(page.getByTestId('task-progress-bar').first()).toHaveAttribute(
    'aria-valuenow',
    /^[1-9]\d*$/,
  );

  // The log tail: 50 identical lines of a task are one line ×50.
  const collapsed = page.getByTestId('log-line').filter({ hasText: 'tick of task' });
  await expect(collapsed.first()).toBeVisible();
  await expect(collapsed.first().getByTestId('log-count')).toHaveText('×50');
  await expect(page.getByTestId('logs-dropped')).toHaveCount(0);

  // The series chart: one line per settled task (8 so far), drawn on a canvas.
  await expect(page.getByTestId('series-label')).toHaveValue('loss');
  await expect(page.getByTestId('series')).toHaveAttribute('data-tasks', '8');
  await expect(page.getByTestId('series-chart').locator('canvas')).toBeVisible();
  await expect(page.getByTestId('series-chart')).toHaveAttribute(
    'aria-label',
    /one line per task \(8\)/,
  );
  // A label of strings is listed, not plotted.
  await page.getByTestId('series-label').selectOption('notes');
  await expect(page.getByTestId('series-other')).toContainText('8 non-numeric values');
  await page.getByTestId('series-label').selectOption('loss');

  // A note, on the job's throughput chart.
  await grid.tg.note('phase 2');
  const marker = page.getByTestId('job-chart').getByTestId('note-marker');
  await expect(marker).toHaveCount(1, { timeout: 15_000 });
  await expect(marker).toHaveAttribute('title', /phase 2/);
  await screenshot(page, 'task-model-job');

  // Workers: both tabs' CPU and heap over time, with the note.
  await page.getByTestId('nav-workers').click();
  await expect(page.getByTestId('worker-row')).toHaveCount(2);
  await expect(page.getByTestId('worker-cpu-chart').locator('canvas')).toBeVisible();
  await expect(page.getByTestId('worker-heap-chart').locator('canvas')).toBeVisible();
  await expect
    .poll(
      async () =>
        Number(await page.getByTestId('worker-cpu-chart-box').getAttribute('data-points')),
      {
        timeout: 30_000,
      },
    )
    .toBeGreaterThan(0);
  // Chromium exposes its JS heap (performance.memory).
  await expect
    .poll(async () =>
      Number(await page.getByTestId('worker-heap-chart-box').getAttribute('data-points')),
    )
    .toBeGreaterThan(0);
  await expect(page.getByTestId('heap-not-exposed')).toHaveCount(0);
  await expect(page.getByTestId('worker-cpu-chart').getByTestId('note-marker')).toHaveCount(1);
  await screenshot(page, 'task-model-workers');

  // Told to stop, the two running tasks finish and the job is done.
  await job.tell({ stop: true });
  await expect.poll(async () => (await job.status()).state, { timeout: 60_000 }).toBe('done');
  await page.goBack();
  await expect(page.getByTestId('job-state')).toHaveText('done');
  await expect(page.getByTestId('task-progress-row')).toHaveCount(0);
  await expect(page.getByTestId('series')).toHaveAttribute('data-tasks', '10');

  // The same page at phone width.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByTestId('series-chart').locator('canvas')).toBeVisible();
  await screenshot(page, 'task-model-job-phone');
});

test('a client key sees on the Workers page only the tabs that ran its jobs, without their heap', async ({
  page,
}) => {
  await grid.openTab();
  const secret = await createKey('client', 'alice');
  const alice = new Tabgrid({ url: grid.url, token: secret });
  try {
    const job = await alice.createJob({
      name: 'alice-busy',
      program:
        'function Run(d) { const end = Date.now() + 200; while (Date.now() < end) {} return d }',
    });
    await job.submit(Array.from({ length: 60 }, (_, i) => i));
    await job.close();

    await signIn(page, secret);
    await page.getByTestId('nav-workers').click();
    await expect(page.getByTestId('workers-summary')).toHaveText('1 tab ran your jobs', {
      timeout: 30_000,
    });
    await expect(page.getByTestId('worker-row')).toContainText('alice-busy');
    await expect(page.getByTestId('heap-not-exposed')).toContainText('admins only');
    await expect
      .poll(
        async () =>
          Number(await page.getByTestId('worker-cpu-chart-box').getAttribute('data-points')),
        {
          timeout: 30_000,
        },
      )
      .toBeGreaterThan(0);
    await screenshot(page, 'task-model-workers-client');
  } finally {
    await alice.close();
  }
});

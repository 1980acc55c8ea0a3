import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { Tabgrid } from '@tabgrid/sdk';
import { gridPerTest } from '../support/grid.js';

/** Screenshots also land here, outside the per-test folders, for people to look at. */
const SCREENSHOTS = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'test-results',
  'screenshots',
);

const grid = gridPerTest();
test.use({ viewport: { width: 1280, height: 800 } });

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

/** The exact number a counter tile shows. */
async function counter(page: Page, testId: string): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute('data-value'));
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

test('watch a job computed by tabs reach 100% with the real totals, then cancel and delete another', async ({
  page,
}) => {
  await grid.openTab();
  await grid.openTab();
  await signIn(page, grid.token);
  await expect(page.getByTestId('stat-workers')).toHaveAttribute('data-value', '2');

  // 5,000 tasks of ~3 ms, some of which throw one of two errors: long enough to watch, with
  // errors to group.
  const TOTAL = 5000;
  const throws = (d: number) => d % 50 === 7 || d % 301 === 0;
  const FAILED = Array.from({ length: TOTAL }, (_, i) => i).filter(throws).length;
  const job = await grid.tg.createJob({
    name: 'double-with-errors',
    program: `function Run(d) {
      const end = Date.now() + 3; while (Date.now() < end) {}
      if (d % 50 === 7) throw new RangeError('input out of range');
      if (d % 301 === 0) return null.x;
      return d * 2;
    }`,
  });
  await job.submit(Array.from({ length: TOTAL }, (_, i) => i));
  await job.close();

  const row = page.locator(`[data-testid="job-row"][data-job-id="${job.id}"]`);
  await expect(row).toBeVisible();
  await expect.poll(async () => (await job.status()).finished).toBeGreaterThan(TOTAL / 3);
  await expect.poll(() => counter(page, 'stat-rate')).toBeGreaterThan(0);
  await screenshot(page, 'overview');

  await row.getByRole('link', { name: 'double-with-errors' }).click();
  await expect(page.getByTestId('job-name')).toHaveText('double-with-errors');
  const progress = page.getByTestId('job-progress');
  await expect(progress).toHaveAttribute('aria-valuenow', '100', { timeout: 90_000 });
  await expect(page.getByTestId('job-progress-percent')).toHaveText('100%');
  await expect(page.getByTestId('job-state')).toHaveText('done');

  const status = await job.status();
  expect(status).toMatchObject({
    state: 'done',
    total: TOTAL,
    finished: TOTAL - FAILED,
    failed: FAILED,
  });
  expect(await counter(page, 'count-total')).toBe(status.total);
  expect(await counter(page, 'count-finished')).toBe(status.finished);
  expect(await counter(page, 'count-failed')).toBe(status.failed);
  expect(await counter(page, 'count-in-flight')).toBe(0);
  expect(await counter(page, 'count-queued')).toBe(0);
  await expect(page.getByTestId('count-finished')).toHaveText(
    (TOTAL - FAILED).toLocaleString('en-US'),
  );
  expect(await counter(page, 'job-compute')).toBeGreaterThan(0);

  // The detail: errors grouped by message with their counts and a stack, the latest results,
  // and the histogram.
  const groups = page.getByTestId('error-group');
  await expect(groups).toHaveCount(2);
  const counts = await page.getByTestId('error-group-count').allTextContents();
  expect(counts.map((c) => Number(c.replace(/\D/g, ''))).reduce((a, b) => a + b)).toBe(FAILED);
  await expect(groups.filter({ hasText: 'input out of range' })).toContainText('RangeError');
  await expect(groups.filter({ hasText: 'Cannot read properties of null' })).toContainText(
    'TypeError',
  );
  await expect(groups.first().locator('.stack-trace')).toContainText('Run');
  await expect(page.getByTestId('latest-results').locator('li').first()).toBeVisible();
  await expect(page.getByTestId('duration-histogram').locator('canvas')).toBeVisible();
  await screenshot(page, 'job');

  // Opened again once the job is over, its chart still shows how it ran: the server keeps
  // each job's throughput series (without it, a fresh page would only see 0 tasks/s).
  await page.reload();
  await expect(page.getByTestId('job-state')).toHaveText('done');
  await expect(page.getByTestId('job-chart')).toHaveAttribute('aria-label', /peak [1-9]/);

  // A second, slow job: cancel it from its page.
  const slow = await grid.tg.createJob({
    name: 'slow',
    program: 'function Run(d) { return new Promise((r) => setTimeout(() => r(d), 250)) }',
  });
  await slow.submit(Array.from({ length: 5000 }, (_, i) => i));
  await slow.close();
  await page.getByTestId('nav-jobs').click();
  const slowRow = page.locator(`[data-testid="job-row"][data-job-id="${slow.id}"]`);
  await slowRow.getByRole('link', { name: 'slow' }).click();
  await expect(page.getByTestId('job-state')).toHaveText('running');
  await expect.poll(() => counter(page, 'count-finished')).toBeGreaterThan(0);

  // The workers page while both tabs compute the slow job.
  await page.getByTestId('nav-workers').click();
  await expect(page.getByTestId('worker-row')).toHaveCount(2);
  const done = await page
    .getByTestId('worker-tasks-done')
    .evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-value'))));
  expect(done.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(TOTAL);
  await expect(page.getByRole('link', { name: 'slow' }).first()).toBeVisible();
  await screenshot(page, 'workers');
  await page.goBack();
  await expect(page.getByTestId('job-name')).toHaveText('slow');
  await page.getByTestId('cancel-job').click();
  await expect(page.getByTestId('confirm-dialog')).toBeVisible();
  await expect(page.getByTestId('confirm-dialog')).toContainText(
    'unsettled tasks settle as cancelled errors',
  );
  await page.getByTestId('confirm-yes').click();
  await expect(page.getByTestId('job-state')).toHaveText('cancelled');
  await expect(page.getByTestId('confirm-dialog')).toHaveCount(0);
  await expect(page.getByTestId('cancel-job')).toHaveCount(0);
  expect((await slow.status()).state).toBe('cancelled');

  await page.getByTestId('nav-jobs').click();
  await expect(page.getByTestId('job-row')).toHaveCount(2);
  await page.getByTestId('sort-name').click();
  await expect(page.getByTestId('job-row').first()).toHaveAttribute('data-job-id', job.id);
  await page.getByTestId('sort-name').click();
  await expect(page.getByTestId('job-row').first()).toHaveAttribute('data-job-id', slow.id);
  await screenshot(page, 'jobs');

  // Delete the cancelled job: back on the jobs list, without it.
  await slowRow.getByRole('link', { name: 'slow' }).click();
  await page.getByTestId('delete-job').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('cannot be undone');
  await page.getByTestId('confirm-yes').click();
  await expect(page.getByTestId('notice')).toContainText('deleted');
  await expect(page.getByTestId('job-row')).toHaveCount(1);
  await expect(grid.tg.job(slow.id).status()).rejects.toMatchObject({
    code: 'TG_ERR_JOB_NOT_FOUND',
  });

  // The same pages at phone width.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByTestId('nav-overview').click();
  await expect(page.getByTestId('overview-chart').locator('canvas')).toBeVisible();
  await screenshot(page, 'overview-phone');
  await row.getByRole('link').first().click();
  await expect(page.getByTestId('duration-histogram').locator('canvas')).toBeVisible();
  await screenshot(page, 'job-phone');
});

test('a viewer key sees jobs but gets no Cancel/Delete, and the server refuses them with 403', async ({
  page,
}) => {
  const viewer = await createKey('viewer', 'v');
  const job = await grid.tg.createJob({ name: 'watched', program: 'function Run(d) { return d }' });
  await job.submit([1, 2, 3]);

  await signIn(page, viewer);
  await expect(page.getByTestId('whoami')).toContainText('viewer');
  await expect(
    page.getByTestId('overview-page'),
    'the live feed accepts viewer keys',
  ).toBeVisible();
  await page.getByTestId('nav-jobs').click();
  await page.getByRole('link', { name: 'watched' }).click();
  await expect(page.getByTestId('job-name')).toHaveText('watched');
  await expect(page.getByTestId('count-total')).toHaveText('3');
  await expect(page.getByTestId('cancel-job')).toHaveCount(0);
  await expect(page.getByTestId('delete-job')).toHaveCount(0);
  await screenshot(page, 'job-viewer');

  // Hiding is courtesy: the server refuses, over REST and over the SDK's socket.
  const asViewer = { authorization: `Bearer ${viewer}` };
  const cancel = await fetch(`${grid.url}/api/jobs/${job.id}/cancel`, {
    method: 'POST',
    headers: asViewer,
  });
  expect(cancel.status).toBe(403);
  expect(await cancel.json()).toMatchObject({ error: { code: 'TG_ERR_FORBIDDEN' } });
  const remove = await fetch(`${grid.url}/api/jobs/${job.id}`, {
    method: 'DELETE',
    headers: asViewer,
  });
  expect(remove.status).toBe(403);
  const viewerClient = new Tabgrid({ url: grid.url, token: viewer });
  try {
    await expect(viewerClient.job(job.id).cancel()).rejects.toMatchObject({
      code: 'TG_ERR_FORBIDDEN',
    });
    await expect(viewerClient.job(job.id).delete()).rejects.toMatchObject({
      code: 'TG_ERR_FORBIDDEN',
    });
  } finally {
    await viewerClient.close();
  }
  expect((await job.status()).state).toBe('open');
});

test('sign-in errors, empty states, sign-out, and an unreachable server say what to do', async ({
  page,
}) => {
  await page.goto(`${grid.url}/dashboard/`);
  await page.getByTestId('token-input').fill('not-a-token');
  await page.getByTestId('sign-in-button').click();
  await expect(page.getByTestId('sign-in-error')).toContainText('refused this token');

  await signIn(page, grid.token);
  await expect(page.getByTestId('empty-jobs')).toContainText('createJob');
  await expect(page.getByTestId('no-workers-hint')).toBeVisible();
  await page.getByTestId('nav-workers').click();
  await expect(page.getByTestId('empty-workers')).toBeVisible();
  await page.getByTestId('nav-overview').click();
  await screenshot(page, 'overview-empty');

  // The token survives a reload; sign-out forgets it.
  await page.reload();
  await expect(page.getByTestId('feed-status')).toHaveText('Live');
  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('token-input')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('token-input')).toBeVisible();

  await signIn(page, grid.token);
  await expect(page.getByTestId('overview-page')).toBeVisible();
  await grid.server.app.close();
  await expect(page.getByTestId('connection-banner')).toContainText(
    'Cannot reach the Tabgrid server',
  );
  await expect(page.getByTestId('feed-status')).toHaveText('Reconnecting');
  await screenshot(page, 'unreachable');
});

/**
 * Issue 16: what a volunteer controls and sees on the worker page — controls remembered across
 * reloads, "only while visible", who runs the grid, the current job's public name (cleared
 * when idle), and a job whose requirements no connected tab meets saying so.
 */
import { expect, test, type Page } from '@playwright/test';
import { gridPerTest } from '../support/grid.js';

const OPERATOR = {
  name: 'Example Lab',
  description: 'A university lab folding small proteins on spare tabs.',
  link: 'https://example.org/lab',
};
const grid = gridPerTest({ scheduling: { operator: OPERATOR } });

/** Reads the page's remembered controls back from what it shows. */
async function shownControls(page: Page) {
  return {
    threads: await page.getByTestId('threads').textContent(),
    cap50: await page.getByTestId('cpu-cap-50').isChecked(),
    visibleOnly: await page.getByTestId('only-when-visible').isChecked(),
    battery: await page.getByTestId('pause-on-battery').isChecked(),
    run: await page.getByTestId('toggle-run').textContent(),
  };
}

test('the controls persist across a reload; more threads than cores comes with a warning', async () => {
  const page = await grid.openTab('?threads=1');
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  await expect(page.getByTestId('threads-warning')).toHaveCount(0);
  for (let n = 1; n <= cores; n++) await page.getByTestId('threads-increase').click();
  await expect(page.getByTestId('threads')).toHaveText(String(cores + 1));
  await expect(page.getByTestId('threads-warning')).toContainText(`${cores} logical cores`);
  await page.getByTestId('cpu-cap-50').check();
  await page.getByTestId('only-when-visible').check();
  await page.getByTestId('pause-on-battery').check();
  await page.getByTestId('toggle-run').click();
  await expect(page.getByTestId('connection-state')).toHaveText('paused');
  const before = await shownControls(page);
  expect(before).toEqual({
    threads: String(cores + 1),
    cap50: true,
    visibleOnly: true,
    battery: true,
    run: 'Resume',
  });

  // Reload without the URL's thread count: only the page's localStorage remembers.
  await page.goto(grid.url + '/');
  await expect(page.getByTestId('connection-state')).toHaveText('paused');
  expect(await shownControls(page)).toEqual(before);
  await expect(page.getByTestId('hold-reason')).toContainText('Paused by you');
  await page.getByTestId('toggle-run').click();
  await expect(page.getByTestId('connection-state')).toHaveText('connected');
  await page.reload();
  await expect(page.getByTestId('connection-state')).toHaveText('connected');
  await expect(page.getByTestId('toggle-run')).toHaveText('Pause');
});

test("the operator's info and the running job's public name appear; the job clears when idle", async () => {
  const page = await grid.openTab('?threads=1');
  await expect(page.getByTestId('operator-name')).toHaveText(OPERATOR.name);
  await expect(page.getByTestId('operator')).toContainText(OPERATOR.description);
  await expect(page.getByTestId('operator').getByRole('link')).toHaveAttribute(
    'href',
    OPERATOR.link,
  );
  await expect(page.getByTestId('now')).toHaveAttribute('data-state', 'idle');
  const job = await grid.tg.createJob({
    name: 'internal-name',
    public: {
      name: 'Counting primes below a million',
      description: 'Each task counts the primes in one range.',
      link: 'https://example.org/primes',
    },
    program: `function Run(ms) { const end = Date.now() + ms; while (Date.now() < end); return ms }`,
  });
  const run = (async () => {
    for await (const _ of job.run(Array.from({ length: 8 }, () => 400))) void _;
  })();
  await expect(page.getByTestId('current-job-name')).toHaveText('Counting primes below a million');
  await expect(page.getByTestId('current-job-description')).toHaveText(
    'Each task counts the primes in one range.',
  );
  await expect(page.getByTestId('now').getByRole('link')).toHaveAttribute(
    'href',
    'https://example.org/primes',
  );
  await run;
  await expect(page.getByTestId('now')).toHaveAttribute('data-state', 'idle');
  await expect(page.getByTestId('current-job-name')).toHaveCount(0);
  // Counted with separators, today and in total (the tally survives a reload).
  await expect(page.getByTestId('tasks-today')).toHaveText('8');
  await page.reload();
  await expect(page.getByTestId('tasks-total')).toHaveText('8');
});

test('"only while visible" stops a hidden tab and hands its tasks back to another tab', async () => {
  const hiding = await grid.openTab('?threads=1');
  await hiding.getByTestId('only-when-visible').check();
  const job = await grid.tg.createJob({
    program: `function Run(ms) { const end = Date.now() + ms; while (Date.now() < end); return ms }`,
  });
  await job.submit(Array.from({ length: 40 }, () => 100));
  await job.close();
  await expect(hiding.getByTestId('now')).toHaveAttribute('data-state', 'busy');
  // Headless Chromium keeps every page visible, so the tab is told it is hidden the way a
  // browser tells it: document.visibilityState and a visibilitychange event.
  await hiding.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await expect(hiding.getByTestId('connection-state')).toHaveText('paused');
  await expect(hiding.getByTestId('hold-reason')).toContainText('this tab is hidden');
  const doneWhenHidden = Number(await hiding.getByTestId('tasks-done').textContent());
  // What it held went back to the server at once: it is not leased to anyone now.
  await expect.poll(async () => (await job.status()).inFlight, { timeout: 10_000 }).toBe(0);
  expect((await job.status()).finished).toBeLessThan(40);
  const other = await grid.openTab('?threads=1');
  await expect.poll(async () => (await job.status()).state, { timeout: 60_000 }).toBe('done');
  expect(Number(await hiding.getByTestId('tasks-done').textContent())).toBe(doneWhenHidden);
  expect(Number(await other.getByTestId('tasks-done').textContent())).toBeGreaterThan(0);
  // Visible again, it runs again.
  await hiding.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => 'visible',
    });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await expect(hiding.getByTestId('connection-state')).toHaveText('connected');
});

test('a job whose requirements no connected tab meets says so in its status and on the dashboard', async ({
  page,
}) => {
  await grid.openTab('?threads=1');
  const job = await grid.tg.createJob({
    name: 'needs-eight',
    requirements: { minThreads: 8 },
    program: 'function Run(d) { return d }',
  });
  await job.submit([1, 2, 3]);
  await expect
    .poll(async () => (await job.status()).unservable, { timeout: 15_000 })
    .toBe('no connected worker offers 8 threads (1 connected)');
  expect((await job.status()).finished).toBe(0);
  await page.goto(`${grid.url}/dashboard/`);
  await page.getByTestId('token-input').fill(grid.token);
  await page.getByTestId('sign-in-button').click();
  const row = page.locator(`[data-testid="job-row"][data-job-id="${job.id}"]`);
  await expect(row.getByTestId('job-row-unservable')).toHaveText(
    'no connected worker offers 8 threads (1 connected)',
  );
  await row.getByRole('link', { name: 'needs-eight' }).click();
  await expect(page.getByTestId('job-unservable')).toContainText(
    'no connected worker offers 8 threads',
  );
  // A tab that meets them takes the tasks, and the status stops saying so.
  await grid.openTab('?threads=8');
  await expect.poll(async () => (await job.status()).finished, { timeout: 30_000 }).toBe(3);
  expect((await job.status()).unservable).toBeNull();
});

/**
 * The worker page as a volunteer sees it — idle, busy and paused — in screenshots: checked by
 * eye when the page changes, and the README's pictures (`TABGRID_UPDATE_SCREENSHOTS=1` writes
 * them to docs/screenshots/; otherwise they land in test-results/screenshots/).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { gridPerTest } from '../support/grid.js';

const here = dirname(fileURLToPath(import.meta.url));
const OUT =
  process.env.TABGRID_UPDATE_SCREENSHOTS === '1'
    ? join(here, '..', '..', 'docs', 'screenshots')
    : join(here, '..', 'test-results', 'screenshots');

const grid = gridPerTest({
  scheduling: {
    operator: {
      name: 'Example Lab',
      description: 'A research group computing protein contact maps on volunteered browser tabs.',
      link: 'https://example.org/lab',
    },
  },
});
test.use({ viewport: { width: 900, height: 900 }, locale: 'en-US', colorScheme: 'light' });

async function shoot(page: Page, name: string): Promise<void> {
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await test.info().attach(name, { path, contentType: 'image/png' });
  mkdirSync(OUT, { recursive: true });
  copyFileSync(path, join(OUT, `${name}.png`));
}

test('the worker page idle, busy and paused', async () => {
  const page = await grid.openTab('?threads=2');
  // A volunteer who has given for a while: the ledger's stored totals.
  await page.evaluate(() => {
    const day = new Date();
    const key = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`;
    localStorage.setItem(
      'tabgrid.volunteer.contribution.v1',
      JSON.stringify({
        day: key,
        todayTasks: 48_213,
        todayCpuMs: 3_912_000,
        totalTasks: 1_054_498,
        totalCpuMs: 311_520_000,
      }),
    );
  });
  await page.reload();
  await expect(page.getByTestId('connection-state')).toHaveText('connected');
  await expect(page.getByTestId('tasks-total')).toHaveText('1,054,498');
  await shoot(page, 'worker-page-idle');

  const job = await grid.tg.createJob({
    name: 'contact-maps',
    public: {
      name: 'Protein contact maps, batch 7',
      description: 'Each task predicts which residues of one small protein touch.',
      link: 'https://example.org/lab/contact-maps',
    },
    program: `function Run(ms) { const end = Date.now() + ms; while (Date.now() < end); return ms }`,
  });
  await job.submit(Array.from({ length: 400 }, () => 50));
  await expect(page.getByTestId('current-job-name')).toBeVisible();
  await expect
    .poll(async () => Number(await page.getByTestId('tasks-done').textContent()))
    .toBeGreaterThan(20);
  await page.getByTestId('cpu-cap-75').check();
  await shoot(page, 'worker-page-busy');

  await page.getByTestId('toggle-run').click();
  await expect(page.getByTestId('connection-state')).toHaveText('paused');
  await shoot(page, 'worker-page-paused');
  await job.cancel();
});

/**
 * Issue 16: the CPU cap is a duty cycle per thread. At 50% a thread rests as long as it ran,
 * so a CPU-bound job's rate on that tab roughly halves (±15%).
 */
import { expect, test } from '@playwright/test';
import type { Job } from '@tabgrid/sdk';
import { gridPerTest } from '../support/grid.js';

const grid = gridPerTest();

/** Tasks settled per second over `ms`, read from the job's status on the server. */
async function rateOver(job: Job, ms: number): Promise<number> {
  const before = (await job.status()).finished;
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = (await job.status()).finished;
  return ((after - before) * 1000) / (Date.now() - start);
}

test('a 50% CPU cap roughly halves a CPU-bound job’s rate on that tab, and 100% restores it', async () => {
  test.setTimeout(120_000);
  const page = await grid.openTab('?threads=1');
  // Each task spins for 20 ms of wall time: the rate depends on the cap, little on other load.
  const job = await grid.tg.createJob({
    args: 20,
    program: `function Run(i, ms) { const end = performance.now() + ms; while (performance.now() < end); return i }`,
  });
  await job.submit(Array.from({ length: 5_000 }, (_, i) => i));
  await expect.poll(async () => (await job.status()).finished).toBeGreaterThan(50);

  const full = await rateOver(job, 8_000);
  await page.getByTestId('cpu-cap-50').check();
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // the tasks held at 100% drain
  const half = await rateOver(job, 8_000);
  await page.getByTestId('cpu-cap-100').check();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const again = await rateOver(job, 8_000);
  const ratio = half / ((full + again) / 2);
  console.log(
    `CPU cap: ${full.toFixed(1)} tasks/s at 100%, ${half.toFixed(1)} at 50%, ${again.toFixed(1)} at 100% again (ratio ${ratio.toFixed(2)})`,
  );
  expect(full).toBeGreaterThan(10);
  expect(ratio).toBeGreaterThan(0.5 * 0.85);
  expect(ratio).toBeLessThan(0.5 * 1.15);
  await job.cancel();
});

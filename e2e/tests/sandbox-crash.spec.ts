/**
 * A job whose program crashes the whole tab (issue #11 item 7, #19): a memory bomb that takes
 * the renderer down on every attempt. What should happen: the poison task settles `lost`
 * with a message saying it crashed tabs, and the innocent tasks of the same job, which shared
 * those tabs, succeed: the scheduler runs a task whose tab dropped alone next, and only a loss
 * while alone counts as a crash (pausing a job whose tasks keep killing tabs is tested with
 * simulated workers in packages/fleet/src/hostile.test.ts).
 */
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { startGrid, type Grid } from '../support/grid.js';

// Each crash costs a renderer: give V8 a small heap so that the bomb hits its limit quickly
// and the machine is not asked for gigabytes (a worker's OOM takes its whole tab down).
const HEAP_MB = 128;
const TABS = 3;
const INNOCENT = 30;

let browser: Browser;
let grid: Grid;

test.beforeEach(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      `--js-flags=--max-old-space-size=${HEAP_MB}`,
    ],
  });
  // Every tab here shares 127.0.0.1: a lab, so each tab counts as its own worker (by default a
  // crash counts once per address, so that one host cannot get a task settled lost alone).
  grid = await startGrid(browser, { scheduling: { sameAddressDistinct: true } });
});
test.afterEach(async () => {
  await grid.stop();
  await browser.close();
});

test('a tab-crashing task settles lost; the innocent tasks of its job succeed', async () => {
  test.setTimeout(240_000);
  let crashes = 0;
  // Volunteers whose tab crashed open it again; stop reopening once the job is over.
  let open = true;
  const watch = (page: Page) =>
    page.on('crash', () => {
      crashes++;
      void page.close().catch(() => undefined);
      if (open) void grid.openTab('?threads=2').then(watch, () => undefined);
    });
  for (let i = 0; i < TABS; i++) watch(await grid.openTab('?threads=2'));
  const job = await grid.tg.createJob({
    program: `function Run(x) {
      if (x !== 'bomb') { const end = Date.now() + 20; while (Date.now() < end); return x * 2; }
      const hoard = [];
      for (;;) hoard.push(new Array(1 << 20).fill(Math.random()));
    }`,
    maxAttempts: 3,
    timeoutMs: 30_000,
  });
  const inputs: (number | 'bomb')[] = ['bomb', ...Array.from({ length: INNOCENT }, (_, i) => i)];
  const outcomes = new Map<
    number,
    { ok: boolean; value?: unknown; type?: string; message?: string }
  >();
  for await (const out of job.run(inputs)) {
    outcomes.set(
      out.index,
      out.ok
        ? { ok: true, value: out.value }
        : { ok: false, type: out.error.type, message: out.error.message },
    );
  }
  open = false;
  console.log(
    `[crash e2e] ${crashes} tab crashes; poison task: ${JSON.stringify(outcomes.get(0))}`,
  );
  console.log(
    `[crash e2e] innocent tasks not ok: ${JSON.stringify([...outcomes].filter(([i, o]) => i > 0 && !o.ok))}`,
  );
  expect(crashes).toBeGreaterThan(0);
  expect(outcomes.get(0)).toMatchObject({
    ok: false,
    type: 'lost',
    message: expect.stringMatching(/crash|lost its tab/i),
  });
  for (let i = 1; i <= INNOCENT; i++) {
    expect(outcomes.get(i), `innocent task ${i}`).toEqual({ ok: true, value: (i - 1) * 2 });
  }
});

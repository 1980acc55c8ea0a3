/**
 * Issue 16 item 5: a worker tab hidden behind another tab keeps computing. Tested the way a
 * volunteer's browser behaves, not the way the rest of the suite runs Chromium: headful, under
 * an Xvfb display of its own, without any of the `--disable-background-*` /
 * `--disable-renderer-backgrounding` flags, the worker tab hidden by opening a second tab in
 * the same window, for more than five minutes (when Chromium's intensive wake-up throttling
 * starts: timers of a hidden page then fire once a minute).
 *
 * Its throughput is compared with that of a second worker tab, in a window of its own and visible
 * all along, over the same seconds: other load on the machine (the test runs beside the rest of
 * the suite) weighs on both alike, where a before/after comparison on one tab would take a
 * change in load for throttling. Each task returns the time it finished and results carry the
 * worker's id, so each tab's rate is counted over exactly the same window.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import {
  startTestServer,
  tempDir,
  until,
  type TempDir,
  type TestServer,
} from '@tabgrid/server/testing';
import type { Job } from '@tabgrid/sdk';

/**
 * Each task waits this long on a timer of its thread (a Web Worker's timer, which Chromium does
 * not throttle) and returns the time it finished. A paced task, not a CPU-bound one: the test
 * runs beside the rest of the e2e suite (`npm test` runs it in a lane of its own), and a
 * spinning thread would take a core from the specs that measure CPU. What it reveals is what
 * a hidden tab can lose: each task's round trip through the page's main thread (timers
 * throttled, background priority) weighs ~5% at 100 ms, where 20 ms tasks lose ~15%.
 */
const TASK_MS = 100;
/** Both tabs visible this long first: they must run at the same rate for the comparison to mean
 * anything. */
const CALIBRATE_MS = 20_000;
/** Hidden this long in all; throughput is measured over its last {@link MEASURE_MS}. */
const HIDDEN_MS = 6 * 60_000 + 10_000;
const MEASURE_MS = 60_000;

/** Starts Xvfb on a display number it picks itself (`-displayfd`); resolves `:N`. */
async function startXvfb(): Promise<{ display: string; process: ChildProcess }> {
  const xvfb = spawn(
    'Xvfb',
    ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    },
  );
  const display = await new Promise<string>((resolve, reject) => {
    let text = '';
    xvfb.once('error', (err) =>
      reject(new Error(`Xvfb did not start (${err.message}): apt-get install xvfb`)),
    );
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
    xvfb.stdio[3]!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(`:${text.trim()}`);
    });
  });
  return { display, process: xvfb };
}

/** When each task finished (the time it returned) and on which worker, as the results arrive. */
class Finishes {
  readonly byWorker = new Map<string, number[]>();
  private stopped = false;
  /** Why reading stopped before {@link stop}, if it did. */
  failure: unknown;

  constructor(job: Job<number>) {
    void (async () => {
      for await (const r of job.results({ provenance: true })) {
        if (this.stopped) break;
        const workerId = r.provenance?.workerId ?? 'no worker';
        const times = this.byWorker.get(workerId) ?? [];
        times.push(r.value);
        this.byWorker.set(workerId, times);
      }
    })().catch((err: unknown) => {
      if (!this.stopped) this.failure = err;
    });
  }

  workers(): string[] {
    return [...this.byWorker.keys()];
  }

  /** Tasks `workerId` finished per second in [from, to). */
  rate(workerId: string, from: number, to: number): number {
    const times = this.byWorker.get(workerId) ?? [];
    return (times.filter((t) => t >= from && t < to).length * 1000) / (to - from);
  }

  stop(): void {
    this.stopped = true;
  }
}

/** A window of `ms` from now; resolves once it has passed and its outcomes have had time to
 * arrive (a page sends its outcomes in batches). */
async function windowOf(ms: number): Promise<{ from: number; to: number }> {
  const from = Date.now();
  await sleep(ms + 3_000);
  return { from, to: from + ms };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let xvfb: ChildProcess | undefined;
let browser: Browser | undefined;
let env: TestServer | undefined;
let chromiumProcess: ChildProcess | undefined;
let chromiumProfile: TempDir | undefined;

test.afterEach(async () => {
  await browser?.close();
  chromiumProcess?.kill('SIGKILL');
  await env?.close();
  xvfb?.kill('SIGTERM');
  chromiumProfile?.remove();
});

test('a worker tab hidden behind a second tab for over five minutes keeps >= 90% of the throughput of a visible one', async () => {
  test.setTimeout(CALIBRATE_MS + HIDDEN_MS + 120_000);
  const started = await startXvfb();
  xvfb = started.process;
  env = await startTestServer({ dirPrefix: 'tabgrid-e2e-background-', builtPages: true });
  // Chromium started by hand, not by Playwright: Playwright's launch adds the background
  // flags, and the pages it creates get focus emulation, which keeps a hidden tab "visible".
  // Connecting with `noDefaults` leaves the browser's own default context alone.
  const profile = tempDir('tabgrid-e2e-chromium-');
  chromiumProfile = profile;
  chromiumProcess = spawn(
    process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    [
      '--no-sandbox',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-gpu',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile.path}`,
      'about:blank',
    ],
    { stdio: 'ignore', env: { ...process.env, DISPLAY: started.display } },
  );
  const portFile = join(profile.path, 'DevToolsActivePort');
  await until(() => existsSync(portFile) && readFileSync(portFile, 'utf8').includes('\n'), {
    timeoutMs: 30_000,
    what: 'Chromium to open its DevTools port',
  });
  const [port, path] = readFileSync(portFile, 'utf8').trim().split('\n');
  // `noDefaults` is not in the public typings yet: a variable, so no excess-property check.
  const connectOptions = { noDefaults: true, timeout: 30_000 };
  browser = await chromium.connectOverCDP(`ws://127.0.0.1:${port}${path}`, connectOptions);
  const context = browser.contexts()[0]!;

  const job = await env.tg.createJob<number>({
    name: 'paced',
    args: TASK_MS,
    program: `async function Run(i, ms) { await new Promise((r) => setTimeout(r, ms)); return Date.now() }`,
  });
  // More tasks than the test can finish (~10/s per tab for ~7 min), submitted once: never starved.
  await job.submit(Array.from({ length: 20_000 }, (_, i) => i));
  const finishes = new Finishes(job);

  const worker = context.pages()[0]!;
  await worker.goto(`${env.url}/?threads=1`);
  await expect(worker.getByTestId('connection-state')).toHaveText('connected');
  await until(() => finishes.workers().length === 1, { timeoutMs: 30_000, what: 'a first result' });
  const hiddenId = finishes.workers()[0]!;
  // The tab that will hide it, opened now behind it: a tab opened later would go to the window
  // opened last.
  const other = await openTarget(browser, { url: 'about:blank', background: true });
  // The yardstick: a worker tab in a window of its own, visible all along. Both tabs are measured
  // over the same seconds, so the load of whatever else runs on the machine weighs on both.
  const control = await openTarget(browser, { url: `${env.url}/?threads=1`, newWindow: true });
  await expect(control.getByTestId('connection-state')).toHaveText('connected');
  await until(() => finishes.workers().length === 2, {
    timeoutMs: 30_000,
    what: "the second tab's first result",
  });
  const controlId = finishes.workers().find((id) => id !== hiddenId)!;
  expect(await worker.evaluate(() => document.visibilityState)).toBe('visible');
  expect(await control.evaluate(() => document.visibilityState)).toBe('visible');
  expect(await other.evaluate(() => document.visibilityState)).toBe('hidden');

  const calibration = await windowOf(CALIBRATE_MS);

  // The second tab, opened earlier behind it, brought to the front hides the worker tab (as a
  // volunteer switching tabs does).
  await other.bringToFront();
  await expect
    .poll(() => worker.evaluate(() => document.visibilityState), { timeout: 10_000 })
    .toBe('hidden');
  await expect(sameWindow(browser, worker, other)).resolves.toBe(true);
  await expect(sameWindow(browser, worker, control)).resolves.toBe(false);

  await sleep(HIDDEN_MS - MEASURE_MS);
  const measured = await windowOf(MEASURE_MS);
  expect(await worker.evaluate(() => document.visibilityState)).toBe('hidden');
  expect(await control.evaluate(() => document.visibilityState)).toBe('visible');
  expect(finishes.failure).toBeUndefined();
  finishes.stop();

  const rates = (w: { from: number; to: number }) => ({
    tab: finishes.rate(hiddenId, w.from, w.to),
    control: finishes.rate(controlId, w.from, w.to),
  });
  const both = rates(calibration);
  const hidden = rates(measured);
  const from = (HIDDEN_MS - MEASURE_MS) / 1000;
  console.log(
    `background tab: both visible ${both.tab.toFixed(2)} vs ${both.control.toFixed(2)} tasks/s ` +
      `(${((both.tab / both.control) * 100).toFixed(0)}%); seconds ${from}-${HIDDEN_MS / 1000} ` +
      `hidden ${hidden.tab.toFixed(2)} vs ${hidden.control.toFixed(2)} visible ` +
      `(${((hidden.tab / hidden.control) * 100).toFixed(0)}%)`,
  );
  expect(both.control).toBeGreaterThan(5);
  // The two tabs are alike: visible, each runs at the other's rate.
  expect(both.tab / both.control).toBeGreaterThanOrEqual(0.9);
  expect(both.control / both.tab).toBeGreaterThanOrEqual(0.9);
  expect(hidden.control).toBeGreaterThan(5);
  expect(hidden.tab / hidden.control).toBeGreaterThanOrEqual(0.9);
  await job.cancel();
});

/** Opens a page with CDP's `Target.createTarget` (`newWindow`: in a window of its own;
 * `background`: a tab behind the current one). */
async function openTarget(
  browser: Browser,
  target: { url: string; newWindow?: boolean; background?: boolean },
): Promise<Page> {
  const context = browser.contexts()[0]!;
  const opened = context.waitForEvent('page');
  const cdp = await browser.newBrowserCDPSession();
  await cdp.send('Target.createTarget', target);
  await cdp.detach();
  const page = await opened;
  await page.waitForLoadState();
  return page;
}

/** Whether both pages are tabs of one browser window (CDP's window of each target). */
async function sameWindow(browser: Browser, a: Page, b: Page): Promise<boolean> {
  const cdp = await browser.newBrowserCDPSession();
  const windowOf = async (page: Page): Promise<number> => {
    const session = await page.context().newCDPSession(page);
    const { targetInfo } = (await session.send('Target.getTargetInfo')) as {
      targetInfo: { targetId: string };
    };
    await session.detach();
    const { windowId } = (await cdp.send('Browser.getWindowForTarget', {
      targetId: targetInfo.targetId,
    })) as { windowId: number };
    return windowId;
  };
  const [wa, wb] = [await windowOf(a), await windowOf(b)];
  await cdp.detach();
  return wa === wb;
}

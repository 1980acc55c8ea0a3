// Headless Debian Chromium with worker tabs open on a server, started the way a volunteer's
// browser is: a plain Chromium process, no automation attached. (Driving it with Playwright
// costs the measurement dearly: its CDP session mirrors every WebSocket frame of the tab to
// the driver, and its async hooks tax every promise of the process it runs in.)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeCpuSeconds } from './proc.mjs';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/**
 * What `webgpu` changes: Chromium then offers its software WebGPU adapter (SwiftShader), which
 * needs the GPU process that --disable-gpu would turn off.
 */
function argsFor(webgpu) {
  return webgpu
    ? [...CHROMIUM_ARGS.filter((arg) => arg !== '--disable-gpu'), '--enable-unsafe-webgpu']
    : CHROMIUM_ARGS;
}

/** One headless Chromium with one tab on `page`, in a process group and profile of its own. */
function launch(page, webgpu = false) {
  const profile = mkdtempSync(join(tmpdir(), 'tabgrid-bench-chromium-'));
  const chromium = spawn(
    process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    [
      ...argsFor(webgpu),
      ...(process.env.EXTRA_CHROMIUM?.split(' ').filter(Boolean) ?? []),
      `--user-data-dir=${profile}`,
      page,
    ],
    // A process group of its own, so closing stops every one of Chromium's processes.
    { stdio: 'ignore', detached: true },
  );
  const killAll = () => {
    try {
      process.kill(-chromium.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killAll); // never leave a browser behind, even when the bench fails
  return {
    get exited() {
      return chromium.exitCode !== null || chromium.signalCode !== null;
    },
    cpuSeconds: () => treeCpuSeconds(chromium.pid),
    async close() {
      killAll();
      process.off('exit', killAll);
      if (chromium.exitCode === null && chromium.signalCode === null) {
        await new Promise((resolve) => chromium.once('exit', resolve));
      }
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/**
 * Opens `count` worker tabs on `url`, each in a browser of its own like separate volunteers
 * (headless Chromium does not open several start-up URLs); resolves once the server counts
 * that many workers. `webgpu`: browsers that offer WebGPU (a software adapter here).
 */
export async function openTabs(url, count, query = '', { webgpu = false } = {}) {
  const browsers = Array.from({ length: count }, () => launch(`${url}/${query}`, webgpu));
  const close = async () => {
    await Promise.all(browsers.map((browser) => browser.close()));
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { workers } = await (await fetch(`${url}/healthz`)).json();
    if (workers >= count) break;
    if (Date.now() > deadline || browsers.some((browser) => browser.exited)) {
      await close();
      throw new Error(`only ${workers} of ${count} tab(s) connected within 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    /** CPU seconds used so far by the browsers, all their processes together. */
    cpuSeconds: () => browsers.reduce((sum, browser) => sum + browser.cpuSeconds(), 0),
    close,
  };
}

/**
 * A real Tabgrid server (the harness's test server: SQLite in a temp dir, real sockets, a free
 * port) with worker tabs opened on it in the test's Chromium. `{ process: true }` runs the
 * built server (`dist/main.js`) as a child process instead, so a test can kill it and start it
 * again on the same data dir and port (`restart`), as a crash would.
 */
import type { Browser, Page } from '@playwright/test';
import { expect, test } from '@playwright/test';
import type { App } from '@tabgrid/server/app';
import { Tabgrid } from '@tabgrid/sdk';
import {
  ADMIN_TOKEN,
  startServerProcess,
  startTestServer,
  tempDir,
  type ServerProcess,
  type TestServerOptions,
} from '@tabgrid/server/testing';

export interface GridOptions extends TestServerOptions {
  /** Run the built server as a child process (its options come from the environment only). */
  process?: boolean;
}

export interface RestartOptions {
  /** How the old process ends: `'SIGKILL'` is a crash (nothing flushed), `'SIGTERM'` a stop. */
  kill?: 'SIGKILL' | 'SIGTERM';
}

export interface Grid {
  url: string;
  /** The admin token. */
  token: string;
  /** The in-process server (not in `{ process: true }` grids: that one is another process). */
  server: App;
  tg: Tabgrid;
  /**
   * Kills the server process (`{ process: true }` grids only) and starts it again on the same
   * data dir and port; open tabs and `tg` reconnect by themselves.
   */
  restart(options?: RestartOptions): Promise<void>;
  /** Opens a worker tab and waits until it is connected. */
  openTab(query?: string): Promise<Page>;
  stop(): Promise<void>;
}

export async function startGrid(browser: Browser, options: GridOptions = {}): Promise<Grid> {
  const { process: asProcess = false, ...serverOptions } = options;
  if (asProcess) return startProcessGrid(browser);
  const env = await startTestServer({
    dirPrefix: 'tabgrid-e2e-',
    builtPages: true,
    ...serverOptions,
  });
  const context = await browser.newContext();
  env.adopt(context);
  return {
    url: env.url,
    token: env.token,
    server: env.server,
    tg: env.tg,
    async openTab(query = '') {
      const page = await context.newPage();
      await page.goto(`${env.url}/${query}`);
      await expect(page.getByTestId('connection-state')).toHaveText('connected');
      return page;
    },
    restart: () =>
      Promise.reject(new Error('restart() needs startGrid(browser, { process: true })')),
    stop: () => env.close(),
  };
}

/** A grid whose server is a child process on a data dir of the grid's own (see restart). */
async function startProcessGrid(browser: Browser): Promise<Grid> {
  const dir = tempDir('tabgrid-e2e-process-');
  let server: ServerProcess;
  try {
    server = await startServerProcess({ dataDir: dir.path });
  } catch (err) {
    dir.remove();
    throw err;
  }
  const tg = new Tabgrid({ url: server.url, token: ADMIN_TOKEN });
  const context = await browser.newContext();
  return {
    url: server.url,
    token: ADMIN_TOKEN,
    get server(): App {
      throw new Error('a { process: true } grid has no in-process server');
    },
    tg,
    async openTab(query = '') {
      const page = await context.newPage();
      await page.goto(`${server.url}/${query}`);
      await expect(page.getByTestId('connection-state')).toHaveText('connected');
      return page;
    },
    async restart({ kill = 'SIGKILL' } = {}) {
      await server.kill(kill);
      server = await startServerProcess({ dataDir: dir.path, port: server.port });
    },
    async stop() {
      try {
        await context.close();
        await tg.close();
        await server.stop();
      } finally {
        dir.remove();
      }
    },
  };
}

/** A grid per test in the test's browser, stopped after it: `const grid = gridPerTest();`. */
export function gridPerTest(options: GridOptions = {}): Grid {
  let current: Grid | undefined;
  test.beforeEach(async ({ browser }) => {
    current = await startGrid(browser, options);
  });
  test.afterEach(async () => {
    const stopping = current;
    current = undefined;
    await stopping?.stop();
  });
  const get = (): Grid => {
    if (!current) throw new Error('The grid is not running: use it inside a test or hook.');
    return current;
  };
  return {
    get url() {
      return get().url;
    },
    get token() {
      return get().token;
    },
    get server() {
      return get().server;
    },
    get tg() {
      return get().tg;
    },
    openTab: (query) => get().openTab(query),
    restart: (restartOptions) => get().restart(restartOptions),
    stop: () => get().stop(),
  };
}

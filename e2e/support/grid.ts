/**
 * A real Tabgrid server (the harness's test server: SQLite in a temp dir, real sockets, a free
 * port) with worker tabs opened on it in the test's Chromium.
 */
import type { Browser, Page } from '@playwright/test';
import { expect, test } from '@playwright/test';
import type { App } from '@tabgrid/server/app';
import type { Tabgrid } from '@tabgrid/sdk';
import { startTestServer, type TestServerOptions } from '@tabgrid/server/testing';

export interface Grid {
  url: string;
  /** The admin token. */
  token: string;
  server: App;
  tg: Tabgrid;
  /** Opens a worker tab and waits until it is connected. */
  openTab(query?: string): Promise<Page>;
  stop(): Promise<void>;
}

export async function startGrid(browser: Browser, options: TestServerOptions = {}): Promise<Grid> {
  const env = await startTestServer({
    dirPrefix: 'tabgrid-e2e-',
    builtPages: true,
    ...options,
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
    stop: () => env.close(),
  };
}

/** A grid per test in the test's browser, stopped after it: `const grid = gridPerTest();`. */
export function gridPerTest(options: TestServerOptions = {}): Grid {
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
    stop: () => get().stop(),
  };
}

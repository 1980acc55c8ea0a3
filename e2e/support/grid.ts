/**
 * Starts a real Tabgrid server (SQLite in a temp dir, real sockets) on a free port, and opens
 * worker tabs on it in the test's Chromium.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from '@playwright/test';
import { expect } from '@playwright/test';
import { buildApp, type App, type AppOptions } from '@tabgrid/server/app';
import { Tabgrid } from '@tabgrid/sdk';

export const TOKEN = 'e2e-token';

export interface Grid {
  url: string;
  server: App;
  tg: Tabgrid;
  /** Opens a worker tab and waits until it is connected. */
  openTab(query?: string): Promise<Page>;
  stop(): Promise<void>;
}

export async function startGrid(
  browser: Browser,
  options: Partial<AppOptions> = {},
): Promise<Grid> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tabgrid-e2e-'));
  const server = await buildApp({ dataDir, adminToken: TOKEN, ...options });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  const tg = new Tabgrid({ url, token: TOKEN });
  const context = await browser.newContext();
  return {
    url,
    server,
    tg,
    async openTab(query = '') {
      const page = await context.newPage();
      await page.goto(`${url}/${query}`);
      await expect(page.getByTestId('connection-state')).toHaveText('connected');
      return page;
    },
    async stop() {
      await tg.close();
      await context.close();
      await server.app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

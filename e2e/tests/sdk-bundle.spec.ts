/**
 * `/sdk.js` in a real page with no bundler: a plain HTML page on another origin imports the
 * server's browser bundle in a `<script type="module">`, then submits a job that a real worker
 * tab runs, over REST and socket.io, allowed by TABGRID_CORS_ORIGINS. Without the origin
 * configured the same page still loads the module (it is public) but may not call the server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import type { Tabgrid as TabgridClient } from '@tabgrid/sdk';
import { startGrid, type Grid } from '../support/grid.js';

/** What the page's module script leaves on `window`. */
type PageWindow = { sdk: { Tabgrid: typeof TabgridClient } };

/** Serves one page that imports the SDK from `sdkUrl` and leaves it on `window`. */
async function startPageServer(): Promise<{
  origin: string;
  server: Server;
  page(sdk: string): string;
}> {
  const server = createServer((request, response) => {
    const sdk = new URL(request.url ?? '/', 'http://x').searchParams.get('sdk') ?? '';
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html>
<title>no bundler</title>
<p id="state">loading</p>
<script type="module">
  import { Tabgrid } from ${JSON.stringify(sdk)};
  window.sdk = { Tabgrid };
  document.getElementById('state').textContent = 'loaded';
</script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // `localhost`, not the grid's `127.0.0.1`: another host as well as another port.
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  return { origin, server, page: (sdk) => `${origin}/?sdk=${encodeURIComponent(sdk)}` };
}

let pages: Awaited<ReturnType<typeof startPageServer>>;
let grid: Grid | undefined;
test.beforeEach(async () => {
  pages = await startPageServer();
});
test.afterEach(async () => {
  await grid?.stop();
  grid = undefined;
  await new Promise((resolve) => pages.server.close(resolve));
});

test('a page of an allowed origin imports /sdk.js without a bundler and runs a job', async ({
  browser,
  page,
}) => {
  grid = await startGrid(browser, { cors: [pages.origin] });
  await grid.openTab();
  await page.goto(pages.page(`${grid.url}/sdk.js`));
  await expect(page.locator('#state')).toHaveText('loaded');
  const result = await page.evaluate(
    async ({ url, token }) => {
      const { Tabgrid } = (window as unknown as PageWindow).sdk;
      const tg = new Tabgrid({ url, token });
      const job = await tg.createJob({ program: 'function Run(n) { return n * 10 }' });
      const values = await job.map([1, 2, 3]);
      const listed = (await tg.jobs()).length;
      await tg.close();
      return { values, listed };
    },
    { url: grid.url, token: grid.token },
  );
  expect(result).toEqual({ values: [10, 20, 30], listed: 1 });
});

test('without the origin configured, the page loads /sdk.js but cannot call the server', async ({
  browser,
  page,
}) => {
  grid = await startGrid(browser);
  await page.goto(pages.page(`${grid.url}/sdk.js`));
  await expect(page.locator('#state')).toHaveText('loaded');
  const refused = await page.evaluate(
    async ({ url, token }) => {
      const rest = await fetch(`${url}/api/jobs`, {
        headers: { authorization: `Bearer ${token}` },
      }).then(
        () => 'answered',
        (err: Error) => err.name,
      );
      const { Tabgrid } = (window as unknown as PageWindow).sdk;
      const tg = new Tabgrid({ url, token });
      const socket = await Promise.race([
        tg.jobs().then(
          () => 'answered',
          () => 'refused',
        ),
        new Promise((resolve) => setTimeout(() => resolve('refused'), 5_000)),
      ]);
      void tg.close();
      return { rest, socket };
    },
    { url: grid.url, token: grid.token },
  );
  // The browser withholds the answer (CORS) and the socket is refused by the server.
  expect(refused).toEqual({ rest: 'TypeError', socket: 'refused' });
  expect((await grid.tg.jobs()).length).toBe(0);
});

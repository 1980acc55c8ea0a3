import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { startGrid, type Grid } from '../support/grid.js';

let grid: Grid;
let decoy: Server;
let decoyConnections = 0;
let decoyUrl: string;

test.beforeEach(async ({ browser }) => {
  grid = await startGrid(browser);
  decoyConnections = 0;
  decoy = createServer((_req, res) => res.end('you should never see this'));
  decoy.on('connection', () => decoyConnections++);
  await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', resolve));
  decoyUrl = `127.0.0.1:${(decoy.address() as AddressInfo).port}`;
});
test.afterEach(async () => {
  await grid.stop();
  await new Promise((resolve) => decoy.close(resolve));
});

test('job code cannot reach the network, the DOM or the page, and says so clearly', async () => {
  const page = await grid.openTab();
  // Chromium's Local Network Access checks would otherwise keep the loopback decoy dark on
  // their own, and the assertions on it below would prove nothing about the sandbox.
  await page.context().grantPermissions(['local-network-access']);
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  const job = await grid.tg.createJob({
    program: `async function Run(what, args) {
      switch (what) {
        case 'fetch': await fetch('http://' + args.decoy + '/fetch'); return 'fetched';
        case 'websocket': new WebSocket('ws://' + args.decoy + '/ws'); return 'opened';
        case 'importScripts': importScripts('http://' + args.decoy + '/evil.js'); return 'imported';
        case 'document': return document.cookie;
        case 'xhr': { const x = new XMLHttpRequest(); x.open('GET', 'http://' + args.decoy + '/xhr'); x.send(); return 'sent'; }
        case 'localStorage': return localStorage.getItem('x');
        // Past the replaced globals, the sandbox's Content-Security-Policy still blocks it.
        case 'prototypeFetch': {
          const original = Object.getOwnPropertyDescriptor(WorkerGlobalScope.prototype, 'fetch');
          await original.value.call(self, 'http://' + args.decoy + '/proto');
          return 'fetched';
        }
      }
    }`,
    args: { decoy: decoyUrl },
  });
  const attempts = [
    'fetch',
    'websocket',
    'importScripts',
    'document',
    'xhr',
    'localStorage',
    'prototypeFetch',
  ];
  const errors = new Map<string, string>();
  for await (const out of job.run(attempts)) {
    expect(out.ok, `${attempts[out.index]} must fail`).toBe(false);
    if (!out.ok) errors.set(attempts[out.index]!, out.error.message);
  }
  expect(errors.get('fetch')).toMatch(/fetch is not available to job code/);
  expect(errors.get('websocket')).toMatch(/WebSocket is not available to job code/);
  expect(errors.get('importScripts')).toMatch(/importScripts is not available to job code/);
  expect(errors.get('document')).toMatch(
    /^TG sandbox: job code runs in a Web Worker: there is no DOM/,
  );
  expect(errors.get('xhr')).toMatch(/XMLHttpRequest is not available to job code/);
  // (with the hint every ReferenceError gets: "closures don't travel with the program: …")
  expect(errors.get('localStorage')).toMatch(/^localStorage is not defined \(closures/);
  // The replaced global is replaced up the prototype chain too.
  expect(errors.get('prototypeFetch')).toMatch(/^TG sandbox: fetch is not available to job code/);
  // Give any stray asynchronous connection attempt time to land, then check none did.
  await page.waitForTimeout(500);
  expect(decoyConnections).toBe(0);
  expect(requests.filter((url) => url.includes(decoyUrl))).toEqual([]);
  // Under the thread runtime's replaced globals, the page's policy and the server hold on
  // their own: a bare worker started the way the tab starts job threads (from a data: URL,
  // inheriting the page's CSP) reaches neither another host nor the Tabgrid server.
  const bare = await page.evaluate(
    async ({ decoy, server }) => {
      const probe = `
        const attempt = (open) => new Promise((resolve) => {
          try { open(() => resolve('reached'), () => resolve('blocked')); }
          catch { resolve('blocked'); }
        });
        (async () => postMessage({
          origin: self.origin,
          // no-cors: the request goes out if the policy lets it, whatever the answer.
          otherHost: await attempt((ok, no) =>
            fetch('http://${decoy}/bare', { mode: 'no-cors' }).then(ok, no),
          ),
          serverSocket: await attempt((ok, no) => {
            const socket = new WebSocket('${server.replace('http', 'ws')}/ws/worker');
            socket.onopen = ok;
            socket.onerror = no;
          }),
        }))();`;
      const worker = new Worker(`data:text/javascript,${encodeURIComponent(probe)}`);
      const report = await new Promise((resolve) => (worker.onmessage = (e) => resolve(e.data)));
      worker.terminate();
      return report;
    },
    { decoy: decoyUrl, server: new URL(page.url()).origin },
  );
  expect(bare).toEqual({ origin: 'null', otherHost: 'blocked', serverSocket: 'blocked' });
  expect(decoyConnections).toBe(0);
  // The tab is still healthy afterwards.
  await expect(page.getByTestId('connection-state')).toHaveText('connected');
});

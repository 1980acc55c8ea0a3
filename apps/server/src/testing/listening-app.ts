/**
 * The whole server listening on a free loopback port with a temporary data dir: what
 * integration tests that need real sockets (WebSocket, socket.io, raw TCP, a Python client)
 * start. Written once, so each test says only what it does differently.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp, type App, type AppOptions } from '../app.js';

export interface ListeningApp {
  server: App;
  /** http://127.0.0.1:PORT */
  base: string;
  /** ws://127.0.0.1:PORT/ws/worker */
  wsUrl: string;
  dataDir: string;
  /** Closes the server and removes its data dir. */
  close(): Promise<void>;
}

/** Starts the server with `adminToken` and any other option a test needs. */
export async function listeningApp(
  options: Partial<AppOptions> & { adminToken: string },
): Promise<ListeningApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tabgrid-test-'));
  const server = await buildApp({
    dataDir,
    workerWebDir: dataDir,
    dashboardDir: dataDir,
    ...options,
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (server.app.server.address() as AddressInfo).port;
  return {
    server,
    base: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws/worker`,
    dataDir,
    async close() {
      await server.app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The whole server (buildApp) on a fresh temporary data dir, listening on a free loopback port:
 * what server, fleet and e2e tests start. Written once, so each test says only what it does
 * differently (scheduling, workerSocket, ... are passed through to buildApp).
 */
import type { AddressInfo } from 'node:net';
import { Tabgrid } from '@tabgrid/sdk';
import { buildApp, type App, type AppOptions } from '../app.js';
import { tempDir } from './temp-dir.js';

/** The admin token of every test server: long enough for the server's minimum (16). */
export const ADMIN_TOKEN = 'tg_test_admin_token_0123456789abcdef';

/** Anything a test starts against the server that must stop before it closes (a fleet, say). */
export type Stoppable = { stop(): unknown } | { close(): unknown };

export interface TestServerOptions extends Partial<AppOptions> {
  /** false: build and `ready()` only, for `app.inject()` tests (url and wsUrl are then ''). */
  listen?: boolean;
  /** Prefix of the temp data dir's name. */
  dirPrefix?: string;
  /**
   * true: serve the built worker page and dashboard (buildApp's defaults), for browser tests.
   * Default: an empty dir, so no test depends on a build of the pages by accident.
   */
  builtPages?: boolean;
}

export interface TestServer {
  /** What buildApp returned: `app` (Fastify), `scheduler`, `io`. */
  server: App;
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT/ws/worker */
  wsUrl: string;
  /** The admin token. */
  token: string;
  /** `{ authorization: 'Bearer <token>' }` for `inject()` and `fetch()`. */
  auth: { authorization: string };
  dataDir: string;
  /** An SDK client with the admin token (connects on first use; closed by `close()`). */
  tg: Tabgrid;
  /** Stops `thing` when the server closes, before the server (last adopted, first stopped). */
  adopt<T extends Stoppable>(thing: T): T;
  /** Stops what was adopted, the SDK client and the server, then removes the data dir. */
  close(): Promise<void>;
}

async function stop(thing: Stoppable): Promise<void> {
  if ('stop' in thing) await thing.stop();
  else await thing.close();
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { listen = true, dirPrefix, builtPages = false, ...appOptions } = options;
  const dir = tempDir(dirPrefix);
  const token = appOptions.adminToken ?? ADMIN_TOKEN;
  let server: App;
  try {
    server = await buildApp({
      dataDir: dir.path,
      ...(builtPages ? {} : { workerWebDir: dir.path, dashboardDir: dir.path }),
      ...appOptions,
      adminToken: token,
    });
    if (listen) await server.app.listen({ port: 0, host: '127.0.0.1' });
    else await server.app.ready();
  } catch (err) {
    dir.remove();
    throw err;
  }
  const port = listen ? (server.app.server.address() as AddressInfo).port : 0;
  const url = listen ? `http://127.0.0.1:${port}` : '';
  const tg = new Tabgrid({ url: url || 'http://127.0.0.1:1', token });
  const adopted: Stoppable[] = [];
  let closed: Promise<void> | undefined;
  return {
    server,
    url,
    wsUrl: listen ? `ws://127.0.0.1:${port}/ws/worker` : '',
    token,
    auth: { authorization: `Bearer ${token}` },
    dataDir: dir.path,
    tg,
    adopt(thing) {
      adopted.push(thing);
      return thing;
    },
    close() {
      closed ??= (async () => {
        try {
          for (const thing of adopted.splice(0).reverse()) await stop(thing);
          await tg.close();
          await server.app.close();
        } finally {
          dir.remove();
        }
      })();
      return closed;
    },
  };
}

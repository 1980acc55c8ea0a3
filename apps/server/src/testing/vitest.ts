/**
 * The test server's lifecycle as vitest hooks, so a test file says "a server per test" in one
 * line instead of copying beforeEach/afterEach. Kept apart from the framework-free entry
 * (`@tabgrid/server/testing`), which Playwright loads too.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startTestServer, type TestServer, type TestServerOptions } from './test-server.js';

export interface LifecycleOptions {
  /** Timeout of the closing hook: workers that keep reconnecting can take a while to stop. */
  closeTimeoutMs?: number;
}

/** A TestServer whose every field reads the server of the running test (or file). */
function live(current: () => TestServer | undefined): TestServer {
  const get = (): TestServer => {
    const server = current();
    if (!server) throw new Error('The test server is not running: use it inside a test or hook.');
    return server;
  };
  return {
    get server() {
      return get().server;
    },
    get url() {
      return get().url;
    },
    get wsUrl() {
      return get().wsUrl;
    },
    get token() {
      return get().token;
    },
    get auth() {
      return get().auth;
    },
    get dataDir() {
      return get().dataDir;
    },
    get tg() {
      return get().tg;
    },
    adopt: (thing) => get().adopt(thing),
    close: () => get().close(),
  };
}

/** A fresh server before each test, closed (with what it adopted) after it. */
export function serverPerTest(
  options: TestServerOptions = {},
  lifecycle: LifecycleOptions = {},
): TestServer {
  let current: TestServer | undefined;
  beforeEach(async () => {
    current = await startTestServer(options);
  });
  afterEach(async () => {
    const closing = current;
    current = undefined;
    await closing?.close();
  }, lifecycle.closeTimeoutMs);
  return live(() => current);
}

/** One server for the whole file, started before its first test and closed after its last. */
export function serverPerFile(
  options: TestServerOptions = {},
  lifecycle: LifecycleOptions = {},
): TestServer {
  let current: TestServer | undefined;
  beforeAll(async () => {
    current = await startTestServer(options);
  });
  afterAll(async () => {
    const closing = current;
    current = undefined;
    await closing?.close();
  }, lifecycle.closeTimeoutMs);
  return live(() => current);
}

/** Servers a test starts itself, each with its own options; all closed after each test. */
export function serversPerTest(lifecycle: LifecycleOptions = {}): {
  start(options?: TestServerOptions): Promise<TestServer>;
} {
  const started: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.close()));
  }, lifecycle.closeTimeoutMs);
  return {
    async start(options = {}) {
      const server = await startTestServer(options);
      started.push(server);
      return server;
    },
  };
}

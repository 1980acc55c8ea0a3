/**
 * `@tabgrid/server/testing`: the one test harness of server, fleet and e2e tests. Framework
 * free (Playwright loads it too); the vitest lifecycle hooks are `@tabgrid/server/testing/vitest`.
 */
export {
  ADMIN_TOKEN,
  startTestServer,
  type Stoppable,
  type TestServer,
  type TestServerOptions,
} from './test-server.js';
export { until, type UntilOptions } from './until.js';
export {
  assertExactlyOnce,
  exactlyOnceReport,
  type ExactlyOnceReport,
  type SeenOutcome,
} from './exactly-once.js';
export { tempDir, type TempDir } from './temp-dir.js';
export {
  freePort,
  serverMainPath,
  startServerProcess,
  type ServerExit,
  type ServerProcess,
  type ServerProcessOptions,
} from './server-process.js';
export { createTestDatabase, startNodes, type TestDatabase } from './test-database.js';

#!/usr/bin/env node
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { installCrashPolicy } from './crash-policy.js';

// First of all: whatever escapes every catch is logged loudly (see crash-policy.ts).
installCrashPolicy(console);

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  // A configuration mistake: say what to fix, without a stack trace.
  console.error(`tabgrid: cannot start: ${(err as Error).message}`);
  process.exit(1);
}
const { app } = await buildApp({
  dataDir: config.dataDir,
  adminToken: config.adminToken,
  logger: false,
  trustProxy: config.trustProxy,
  workerSocket: { maxWorkersPerAddress: config.maxWorkersPerAddress },
  scheduling: {
    sameAddressDistinct: config.sameAddressDistinct,
    ...(config.maxSeriesBytesPerJob === undefined
      ? {}
      : { maxSeriesBytesPerJob: config.maxSeriesBytesPerJob }),
    ...(config.operator === undefined ? {} : { operator: config.operator }),
  },
});
await app.listen({ port: config.port, host: config.host });

const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
const base = `http://${shown.includes(':') ? `[${shown}]` : shown}:${config.port}`;
console.log(`Tabgrid is running (data in ${config.dataDir})
  worker page  ${base}/          open it in browser tabs to add them to the grid
  dashboard    ${base}/dashboard/
  REST API     ${base}/api/
  token        ${config.tokenGenerated ? `${config.adminToken}   (generated now, saved in ${config.dataDir}/admin-token; shown only this once)` : `(saved in ${config.dataDir}/admin-token, or set by TABGRID_ADMIN_TOKEN)`}
Submit jobs with:  TABGRID_TOKEN=<token> node examples/quickstart.mjs`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // Commit what is pending and close cleanly; a client that will not hang up does not keep
    // the process alive (nothing is lost: acknowledged writes are already committed).
    setTimeout(() => process.exit(0), 5_000).unref();
    void app.close().then(() => process.exit(0));
  });
}

#!/usr/bin/env node
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { buildApp } from './app.js';
import { loadConfig, parseLogLevel, type LogLevel } from './config.js';
import { installCrashPolicy } from './crash-policy.js';
import { errorDetails } from './core/core-log.js';
import { createLogger, routeConsole } from './ops/logging.js';
import { StartupCode, listenFailure } from './ops/startup.js';
import { backupDatabase } from './store/sqlite-backup.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const USAGE = `Usage: tabgrid-server            start the server (settings from the environment: see the README)
       tabgrid-server backup FILE  copy the database of TABGRID_DATA_DIR to FILE, safe while the server runs`;

const [command, ...args] = process.argv.slice(2);
if (command === 'backup') backup(args);
else if (command !== undefined) {
  console.error(`tabgrid-server: unknown command "${command}".\n${USAGE}`);
  process.exit(2);
}

/** `tabgrid-server backup FILE`: a command of its own, not the server (plain lines, no logger). */
function backup(args: string[]): never {
  if (args.length !== 1 || args[0] === '') {
    console.error(`tabgrid-server backup: name the file to write.\n${USAGE}`);
    process.exit(2);
  }
  process.umask(0o077); // the copy holds tasks, results and key hashes: this user's only
  try {
    const dataDir = resolve(process.env.TABGRID_DATA_DIR ?? '.tabgrid');
    const done = backupDatabase(dataDir, args[0]!);
    console.log(
      `backup: ${done.file} (${(done.bytes / 1024 / 1024).toFixed(1)} MB, ${done.jobs} jobs, schema version ${done.schemaVersion})`,
    );
    process.exit(0);
  } catch (err) {
    console.error(`tabgrid-server backup: ${(err as Error).message}`);
    process.exit(1);
  }
}

// The logger before anything else, so even a bad setting is reported the way logs are.
let level: LogLevel = 'info';
try {
  level = parseLogLevel(process.env.TABGRID_LOG_LEVEL);
} catch {
  // reported below, by loadConfig, with the rest of the configuration
}
const log = createLogger({ level });
// Whatever escapes every catch is logged loudly (see crash-policy.ts); console lines become log lines.
installCrashPolicy(log);
routeConsole(log);

function fail(code: StartupCode, message: string, details: object = {}): never {
  log.fatal({ code, ...details }, message);
  process.exit(1);
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  // A configuration mistake: say what to fix, without a stack trace.
  fail(StartupCode.CONFIG, `cannot start: ${(err as Error).message}`);
}

let built: Awaited<ReturnType<typeof buildApp>>;
try {
  built = await buildApp({
    dataDir: config.dataDir,
    ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
    cluster: {
      ...(config.nodeId === undefined ? {} : { node: config.nodeId }),
      ...(config.leaseTtlMs === undefined ? {} : { leaseTtlMs: config.leaseTtlMs }),
      warn: (what, err) => log.warn({ err }, what),
    },
    adminToken: config.adminToken,
    loggerInstance: log,
    trustProxy: config.trustProxy,
    cors: config.corsOrigins,
    workerSocket: { maxWorkersPerAddress: config.maxWorkersPerAddress },
    scheduling: {
      sameAddressDistinct: config.sameAddressDistinct,
      ...(config.maxSeriesBytesPerJob === undefined
        ? {}
        : { maxSeriesBytesPerJob: config.maxSeriesBytesPerJob }),
      ...(config.operator === undefined ? {} : { operator: config.operator }),
    },
    ...(config.retainDays === undefined ? {} : { retainDays: config.retainDays }),
  });
} catch (err) {
  fail(
    StartupCode.STORE,
    config.databaseUrl === undefined
      ? `cannot start: the data directory ${config.dataDir} could not be opened: ${(err as Error).message}`
      : `cannot start: the database of TABGRID_DATABASE_URL could not be opened: ${(err as Error).message}`,
    errorDetails(err),
  );
}
const { app } = built;
try {
  await app.listen({ port: config.port, host: config.host });
} catch (err) {
  const failure = listenFailure(err, config.host, config.port);
  await app.close().catch(() => {});
  if (failure) fail(failure.code, failure.message);
  throw err; // the crash policy logs it with its stack
}

const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
const base = `http://${shown.includes(':') ? `[${shown}]` : shown}:${config.port}`;
log.info(
  {
    version,
    node: process.version,
    url: base,
    host: config.host,
    port: config.port,
    dataDir: config.dataDir,
    logLevel: config.logLevel,
    retainDays: config.retainDays ?? null,
    // The token itself only on a terminal, below: never into a log shipper.
    tokenGenerated: config.tokenGenerated,
  },
  `Tabgrid ${version} started on ${base}`,
);
if (process.stdout.isTTY) {
  const env = base === 'http://127.0.0.1:8080' ? '' : `TABGRID_URL=${base} `;
  process.stdout.write(`Tabgrid is running (data in ${config.dataDir})
  worker page  ${base}/          open it in browser tabs to add them to the grid
  dashboard    ${base}/dashboard/
  REST API     ${base}/api/
  metrics      ${base}/metrics
  token        ${config.tokenGenerated ? `${config.adminToken}   (generated now, saved in ${config.dataDir}/admin-token; shown only this once)` : `(saved in ${config.dataDir}/admin-token, or set by TABGRID_ADMIN_TOKEN)`}
Submit jobs with:  ${env}TABGRID_TOKEN=<token> node examples/quickstart.mjs
`);
} else if (config.tokenGenerated) {
  log.info(
    { tokenFile: `${config.dataDir}/admin-token` },
    'an admin token was generated and saved in the data directory (read it there)',
  );
}

/** How long a stop waits for clients to hang up before it exits anyway. */
const DRAIN_MS = 5_000;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, `${signal}: stopping (pending writes commit, sockets close)`);
    // Commit what is pending and close cleanly; a client that will not hang up does not keep
    // the process alive (nothing is lost: acknowledged writes are already committed).
    setTimeout(() => {
      log.warn({ signal, waitedMs: DRAIN_MS }, 'stopped without waiting longer for clients');
      process.exit(0);
    }, DRAIN_MS).unref();
    void app.close().then(
      () => {
        log.info({ signal }, 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ signal, ...errorDetails(err) }, 'stopped with an error while closing');
        process.exit(1);
      },
    );
  });
}

// Fails fast, saying exactly what to do, when no PostgreSQL is set up for the tests: the store
// conformance suites and the server's PostgreSQL tests run against TABGRID_TEST_DATABASE_URL.
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';

const url = process.env.TABGRID_TEST_DATABASE_URL;

function hasServerBinaries() {
  const root = '/usr/lib/postgresql';
  if (process.env.PG_BIN) return existsSync(`${process.env.PG_BIN}/initdb`);
  if (!existsSync(root)) return false;
  return readdirSync(root).some((version) => existsSync(`${root}/${version}/bin/initdb`));
}

function fail(problem) {
  const install = hasServerBinaries()
    ? ''
    : `Install PostgreSQL's server first (none was found in /usr/lib/postgresql):\n` +
      `  sudo apt-get install -y postgresql\n`;
  console.error(
    `Tabgrid's tests run the store conformance suites on SQLite and on PostgreSQL: ${problem}\n` +
      install +
      `Start a throwaway cluster for the tests (a temp dir, port 55432; nothing system-wide changes):\n` +
      `  eval "$(scripts/postgres-test-cluster.sh start)"\n` +
      `  npm test\n` +
      `  scripts/postgres-test-cluster.sh stop "$TABGRID_TEST_PG_DIR"\n` +
      `or point TABGRID_TEST_DATABASE_URL at a database in which the tests may create and drop schemas.\n` +
      `(.ci/run does all of this on a fresh machine.)`,
  );
  process.exit(1);
}

if (!url) fail('TABGRID_TEST_DATABASE_URL is not set.');

let target;
try {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') throw new Error();
  target = { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 5432) };
} catch {
  fail(`TABGRID_TEST_DATABASE_URL is no postgresql:// URL.`);
}

// Something must answer there: the tests would otherwise fail one by one, each after a timeout.
await new Promise((resolve) => {
  const socket = connect(target);
  socket.setTimeout(5_000);
  socket.once('connect', () => {
    socket.end();
    resolve();
  });
  const refuse = () => {
    socket.destroy();
    fail(`nothing answers at ${target.host}:${target.port} (TABGRID_TEST_DATABASE_URL).`);
  };
  socket.once('error', refuse);
  socket.once('timeout', refuse);
});

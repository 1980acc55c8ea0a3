/**
 * The PostgreSQL the store tests run against: TABGRID_TEST_DATABASE_URL (`.ci/run` starts a
 * throwaway cluster and sets it; scripts/postgres-test-cluster.sh does the same by hand). Each
 * test directory gets a schema of its own, so tests never see each other's rows and a reopen on
 * the same directory finds the same data, as the conformance suites expect of a store.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import type { PgStoreOptions } from './pg-pool.js';
import { quoteIdent } from './pg-migrations.js';

export const TEST_DATABASE_URL = process.env.TABGRID_TEST_DATABASE_URL;

/** What to do without one (the root test command checks first: scripts/require-postgres.mjs). */
export const NO_TEST_DATABASE =
  'The PostgreSQL store tests need a database: set TABGRID_TEST_DATABASE_URL, e.g. start a throwaway cluster with\n' +
  '  eval "$(scripts/postgres-test-cluster.sh start)"\n' +
  '(Debian: sudo apt-get install -y postgresql first). .ci/run does both.';

/**
 * `describe` when a test database is set; otherwise the suite is skipped with a warning, except
 * in CI (CI set), where it fails: there the PostgreSQL tests must always run.
 */
export function describeWithPostgres(name: string, body: (url: string) => void): void {
  const url = TEST_DATABASE_URL;
  if (url) {
    describe(name, () => body(url));
    return;
  }
  if (process.env.CI) throw new Error(NO_TEST_DATABASE);
  console.warn(`Skipping "${name}". ${NO_TEST_DATABASE}`);
  describe.skip(name, () => undefined);
}

/**
 * Store options for a test directory: its own schema on the test database, dropped after the
 * file's tests (the directory itself is gone by then).
 */
export function schemaPerDirectory(url: string): (dir: string) => PgStoreOptions {
  const schemas = new Set<string>();
  afterAll(async () => {
    if (schemas.size === 0) return;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const schema of schemas)
        await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    } finally {
      await client.end();
    }
  });
  return (dir) => {
    const schema = `tabgrid_test_${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`;
    schemas.add(schema);
    return { url, schema };
  };
}

/**
 * A PostgreSQL database of its own for a test that runs whole server processes on it (several
 * nodes): created on TABGRID_TEST_DATABASE_URL's server, dropped after. Framework free.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startServerProcess, type ServerProcess } from './server-process.js';

export interface TestDatabase {
  /** Its URL: TABGRID_DATABASE_URL of the servers under test. */
  url: string;
  /** Claims the node `node` holds (several nodes' leases on task batches). */
  claimsOf(node: string): Promise<number>;
  /** Drops it (the servers on it stopped first). */
  drop(): Promise<void>;
}

async function onServer<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `tabgrid_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await onServer(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    claimsOf: (node) =>
      onServer(url.toString(), async (c) => {
        const { rows } = await c.query<{ n: number }>(
          'SELECT count(*)::integer AS n FROM claims WHERE node = $1',
          [node],
        );
        return rows[0]?.n ?? 0;
      }),
    drop: () =>
      onServer(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

/**
 * `count` server processes (./server-process.ts) as nodes `node-1` … on the database at `url`,
 * started one at a time (the first migrates, the others find the schema current).
 */
export async function startNodes(
  url: string,
  count: number,
  leaseTtlMs: number,
): Promise<ServerProcess[]> {
  const nodes: ServerProcess[] = [];
  for (let i = 1; i <= count; i++) {
    nodes.push(
      await startServerProcess({
        env: {
          TABGRID_DATABASE_URL: url,
          TABGRID_NODE_ID: `node-${i}`,
          TABGRID_LEASE_TTL_MS: String(leaseTtlMs),
        },
      }),
    );
  }
  return nodes;
}

/**
 * The server's stores: on PostgreSQL (TABGRID_DATABASE_URL) this node is one of several on it
 * (cluster/cluster-node.ts: one alone is a grid of one node), on SQLite in the data directory
 * the only one. Stores given (tests) are used as they are.
 */
import { ClusterNode, type ClusterNodeOptions } from './cluster/cluster-node.js';
import type { JobStore } from './store/job-store.js';
import type { KeyStore } from './store/key-store.js';
import { PgJobStore } from './store/postgres/pg-job-store.js';
import { PgKeyStore } from './store/postgres/pg-key-store.js';
import { SqliteJobStore } from './store/sqlite-job-store.js';
import { SqliteKeyStore } from './store/sqlite-key-store.js';

export interface Stores {
  store: JobStore;
  keyStore: KeyStore;
  /** This node among several (PostgreSQL); its old claims given back, its loops not started. */
  clusterNode?: ClusterNode;
}

export async function openStores(options: {
  dataDir: string;
  databaseUrl?: string;
  store?: JobStore;
  keyStore?: KeyStore;
  cluster?: ClusterNodeOptions;
}): Promise<Stores> {
  const { dataDir, databaseUrl: url } = options;
  const pg = options.store || !url ? undefined : await PgJobStore.open({ url, cluster: true });
  const store = options.store ?? pg ?? new SqliteJobStore(dataDir);
  const keyStore =
    options.keyStore ?? (url ? await PgKeyStore.open({ url }) : new SqliteKeyStore(dataDir));
  if (!pg) return { store, keyStore };
  const clusterNode = new ClusterNode(pg.cluster, options.cluster);
  await clusterNode.prepare();
  return { store, keyStore, clusterNode };
}

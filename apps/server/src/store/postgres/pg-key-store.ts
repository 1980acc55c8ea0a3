import type pg from 'pg';
import type { KeyStore, StoredKey } from '../key-store.js';
import { decodeKey } from '../stored-rows.js';
import { openPool, unreachable, type PgStoreOptions } from './pg-pool.js';

/** PostgreSQL's SQLSTATE for a unique constraint's violation. */
const UNIQUE_VIOLATION = '23505';

/** Keys in the same database as the jobs (table `api_keys`), on a small pool of their own. */
export class PgKeyStore implements KeyStore {
  private readonly pool: pg.Pool;
  private readonly ready: Promise<void>;
  private closing: Promise<void> | undefined;

  constructor(options: PgStoreOptions) {
    // Keys are read once at start and written rarely: one connection is plenty.
    const { pool, ready } = openPool({ ...options, maxConnections: 1 });
    this.pool = pool;
    this.ready = ready;
  }

  /** A key store whose database is reachable and migrated (fails fast, saying what to do). */
  static async open(options: PgStoreOptions): Promise<PgKeyStore> {
    const store = new PgKeyStore(options);
    try {
      await store.ready;
    } catch (err) {
      await store.pool.end().catch(() => undefined);
      throw unreachable(options.url, err);
    }
    return store;
  }

  private async query(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    await this.ready;
    return this.pool.query(text, values);
  }

  async createKey(key: StoredKey): Promise<void> {
    try {
      await this.query(
        'INSERT INTO api_keys (id, name, role, owner, created, secret_hash) VALUES ($1, $2, $3, $4, $5, $6)',
        [key.id, key.name, key.role, key.owner, key.created, key.secretHash],
      );
    } catch (err) {
      // The words the other stores use, so callers and tests need not know the engine.
      if (err instanceof Error && 'code' in err && err.code === UNIQUE_VIOLATION) {
        throw new Error(
          `UNIQUE constraint failed: a key named ${key.name} (or with id ${key.id}) exists.`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  async listKeys(): Promise<StoredKey[]> {
    const { rows } = await this.query(
      'SELECT id, name, role, owner, created, secret_hash AS "secretHash" FROM api_keys ORDER BY created, id',
    );
    return rows.map(decodeKey);
  }

  async updateSecretHash(id: string, secretHash: string): Promise<void> {
    await this.query('UPDATE api_keys SET secret_hash = $1 WHERE id = $2', [secretHash, id]);
  }

  async revokeKey(id: string): Promise<boolean> {
    const { rowCount } = await this.query('DELETE FROM api_keys WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  /** Closes the pool; a second call waits for the first. */
  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }
}

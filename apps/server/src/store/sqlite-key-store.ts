import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { KeyStore, StoredKey } from './key-store.js';
import { makeDatabasePrivate, tighten } from './private-files.js';

/** Keys in the same SQLite file as the jobs, on a connection of their own. */
export class SqliteKeyStore implements KeyStore {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    const path = join(dataDir, 'tabgrid.sqlite');
    makeDatabasePrivate(dataDir, path);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      role TEXT NOT NULL,
      owner TEXT,
      created INTEGER NOT NULL,
      secret_hash TEXT NOT NULL
    )`);
    tighten(path);
  }

  // async: a constraint error (duplicate name) becomes a rejection, as the interface promises.
  // eslint-disable-next-line @typescript-eslint/require-await
  async createKey(key: StoredKey): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO api_keys (id, name, role, owner, created, secret_hash) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(key.id, key.name, key.role, key.owner, key.created, key.secretHash);
  }

  listKeys(): Promise<StoredKey[]> {
    return Promise.resolve(
      this.db
        .prepare(
          'SELECT id, name, role, owner, created, secret_hash AS secretHash FROM api_keys ORDER BY created',
        )
        .all() as StoredKey[],
    );
  }

  updateSecretHash(id: string, secretHash: string): Promise<void> {
    this.db.prepare('UPDATE api_keys SET secret_hash = ? WHERE id = ?').run(secretHash, id);
    return Promise.resolve();
  }

  revokeKey(id: string): Promise<boolean> {
    return Promise.resolve(
      this.db.prepare('DELETE FROM api_keys WHERE id = ?').run(id).changes > 0,
    );
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

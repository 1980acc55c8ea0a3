import type Database from 'better-sqlite3';
import type { KeyStore, StoredKey } from './key-store.js';
import { openDatabase } from './sqlite-database.js';
import { decodeKey } from './stored-rows.js';

/** Keys in the same SQLite file as the jobs (table `api_keys`), on a connection of their own. */
export class SqliteKeyStore implements KeyStore {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    this.db = openDatabase(dataDir);
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
    const rows = this.db
      .prepare(
        'SELECT id, name, role, owner, created, secret_hash AS secretHash FROM api_keys ORDER BY created',
      )
      .all();
    return Promise.resolve(rows.map(decodeKey));
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

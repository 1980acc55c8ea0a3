import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { KeyStore, StoredKey } from './key-store.js';

/** What a MemoryKeyStore keeps, standing in for the database file (reopen on it in tests). */
export class MemoryKeyData {
  readonly keys = new Map<string, StoredKey>();
}

/** API keys in memory, with the SQLite store's rules: names are unique, listed oldest first. */
export class MemoryKeyStore implements KeyStore {
  constructor(private readonly data = new MemoryKeyData()) {}

  createKey(key: StoredKey): Promise<void> {
    for (const stored of this.data.keys.values()) {
      if (stored.id === key.id || stored.name === key.name) {
        // The same words as SQLite's constraint error, which callers may match.
        return Promise.reject(
          new TabgridError(
            ErrorCode.INVALID_REQUEST,
            `UNIQUE constraint failed: a key named ${key.name} (or with id ${key.id}) exists.`,
          ),
        );
      }
    }
    this.data.keys.set(key.id, { ...key });
    return Promise.resolve();
  }

  listKeys(): Promise<StoredKey[]> {
    const keys = [...this.data.keys.values()].map((key) => ({ ...key }));
    return Promise.resolve(keys.sort((a, b) => a.created - b.created));
  }

  updateSecretHash(id: string, secretHash: string): Promise<void> {
    const key = this.data.keys.get(id);
    if (key) this.data.keys.set(id, { ...key, secretHash });
    return Promise.resolve();
  }

  revokeKey(id: string): Promise<boolean> {
    return Promise.resolve(this.data.keys.delete(id));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

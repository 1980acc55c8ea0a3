import type { StoredKey } from '@tabgrid/protocol/stored';

/**
 * An API key as stored: its secret only as `secretHash` (`hmac-sha256:<hex>`, keys/secret-hash.ts,
 * or for keys created before that, the plain SHA-256 hex). Decoded on every read.
 */
export type { StoredKey };

/** API keys. Few and read on every request, so callers keep them in memory; writes are rare. */
export interface KeyStore {
  createKey(key: StoredKey): Promise<void>;
  listKeys(): Promise<StoredKey[]>;
  /** Replaces a key's stored secret hash (when an old-style hash is upgraded). */
  updateSecretHash(id: string, secretHash: string): Promise<void>;
  /** True if a key was revoked. */
  revokeKey(id: string): Promise<boolean>;
  close(): Promise<void>;
}

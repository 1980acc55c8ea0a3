import type { Role } from '@tabgrid/protocol/keys';

export interface StoredKey {
  id: string;
  name: string;
  role: Role;
  /** For a viewer: whose jobs it reads (null: all). */
  owner: string | null;
  /** Epoch ms. */
  created: number;
  /**
   * The secret's stored form: `hmac-sha256:<hex>` (keys/secret-hash.ts), or for keys created
   * before that, the plain SHA-256 hex.
   */
  secretHash: string;
}

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

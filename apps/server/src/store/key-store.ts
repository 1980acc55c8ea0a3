import type { Role } from '@tabgrid/protocol/keys';

export interface StoredKey {
  id: string;
  name: string;
  role: Role;
  /** For a viewer: whose jobs it reads (null: all). */
  owner: string | null;
  /** Epoch ms. */
  created: number;
  /** SHA-256 of the secret, hex. */
  secretHash: string;
}

/** API keys. Few and read on every request, so callers keep them in memory; writes are rare. */
export interface KeyStore {
  createKey(key: StoredKey): Promise<void>;
  listKeys(): Promise<StoredKey[]>;
  /** True if a key was revoked. */
  revokeKey(id: string): Promise<boolean>;
  close(): Promise<void>;
}

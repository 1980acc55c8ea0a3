import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { ApiKeyInfo, CreateKeyRequest, CreatedKey } from '@tabgrid/protocol/keys';
import type { Caller } from './caller.js';
import type { KeyStore, StoredKey } from '../store/key-store.js';

/** The admin token's name for Basic auth and job ownership. */
export const ADMIN_NAME = 'admin';
/** Longer "secrets" are not hashed at all: they cannot be ours. */
const MAX_SECRET_LENGTH = 1024;

import { SecretHasher } from './secret-hash.js';

function info(key: StoredKey): ApiKeyInfo {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    owner: key.owner,
    created: new Date(key.created).toISOString(),
  };
}

/**
 * Every API key, in memory (keys are few and checked on every request), backed by the store.
 * The admin token from the configuration is always an admin key named "admin".
 */
export class KeyRing {
  private readonly byHash = new Map<string, StoredKey>();

  private readonly adminHash: string;

  private constructor(
    private readonly store: KeyStore,
    private readonly hasher: SecretHasher,
    adminToken: string,
  ) {
    this.adminHash = hasher.hash(adminToken);
  }

  /**
   * `hashingKey` keys the HMAC that secrets are stored under (secret-hash.ts); keys stored
   * before it existed (plain SHA-256) still verify, and are rehashed the first time they do.
   */
  static async open(store: KeyStore, adminToken: string, hashingKey: Buffer): Promise<KeyRing> {
    const ring = new KeyRing(store, new SecretHasher(hashingKey), adminToken);
    for (const key of await store.listKeys()) ring.byHash.set(key.secretHash, key);
    return ring;
  }

  /** Who holds `secret` (and, with Basic auth, is called `name`), or undefined. */
  verify(secret: string | undefined, name?: string): Caller | undefined {
    if (!secret || secret.length > MAX_SECRET_LENGTH) return undefined;
    const [given, legacy] = this.hasher.candidates(secret);
    if (timingSafeEqual(Buffer.from(given), Buffer.from(this.adminHash))) {
      return name === undefined || name === ADMIN_NAME
        ? { name: ADMIN_NAME, owner: ADMIN_NAME, role: 'admin', seesAll: true }
        : undefined;
    }
    let key = this.byHash.get(given);
    if (!key) {
      key = this.byHash.get(legacy);
      if (key) this.upgrade(key, given);
    }
    if (!key || (name !== undefined && name !== key.name)) return undefined;
    switch (key.role) {
      case 'admin':
        return { name: key.name, owner: key.name, role: 'admin', seesAll: true };
      case 'client':
        return { name: key.name, owner: key.name, role: 'client', seesAll: false };
      case 'viewer':
        return {
          name: key.name,
          owner: key.owner ?? key.name,
          role: 'viewer',
          seesAll: key.owner === null,
        };
    }
  }

  async create(req: CreateKeyRequest): Promise<CreatedKey> {
    if (req.name === ADMIN_NAME || [...this.byHash.values()].some((k) => k.name === req.name)) {
      throw new TabgridError(
        ErrorCode.INVALID_REQUEST,
        `A key named "${req.name}" already exists: pick another name.`,
      );
    }
    if (req.owner !== undefined && req.role !== 'viewer') {
      throw new TabgridError(
        ErrorCode.INVALID_REQUEST,
        'Only a viewer key has an owner (the client whose jobs it reads).',
      );
    }
    const secret = `tg_${randomBytes(24).toString('base64url')}`;
    const key: StoredKey = {
      id: randomUUID(),
      name: req.name,
      role: req.role,
      owner: req.owner ?? null,
      created: Date.now(),
      secretHash: this.hasher.hash(secret),
    };
    await this.store.createKey(key);
    this.byHash.set(key.secretHash, key);
    return { ...info(key), secret };
  }

  /** A key stored the old way verified: store it the current way (the old form then stops working). */
  private upgrade(key: StoredKey, current: string): void {
    const legacy = key.secretHash;
    this.byHash.delete(legacy);
    key.secretHash = current;
    this.byHash.set(current, key);
    this.store.updateSecretHash(key.id, current).catch((err: unknown) => {
      console.error(`tabgrid: could not rehash key ${key.id} (it still works):`, err);
    });
  }

  list(): ApiKeyInfo[] {
    return [...this.byHash.values()].sort((a, b) => a.created - b.created).map(info);
  }

  async revoke(id: string): Promise<void> {
    const key = [...this.byHash.values()].find((k) => k.id === id);
    if (!key)
      throw new TabgridError(
        ErrorCode.KEY_NOT_FOUND,
        `No key with id ${id}. List keys with GET /api/keys.`,
      );
    await this.store.revokeKey(id);
    this.byHash.delete(key.secretHash);
  }
}

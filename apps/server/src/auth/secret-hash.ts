import { createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The server's hashing key, in the data dir next to the database (0600), never in it. */
export const HASHING_KEY_FILE = 'key-hashing-secret';
const HMAC_PREFIX = 'hmac-sha256:';

/**
 * How key secrets are stored: an HMAC-SHA256 with a server key kept in the data dir, so a copy of
 * the database alone (a backup, a leaked file) does not let anyone test guesses offline. Rows
 * written before this (plain SHA-256, 64 hex digits) are still accepted.
 */
export class SecretHasher {
  constructor(private readonly key: Buffer) {}

  /** The stored form of a new secret. */
  hash(secret: string): string {
    return HMAC_PREFIX + createHmac('sha256', this.key).update(secret).digest('hex');
  }

  /** Every stored form `secret` may have: the current one, then the legacy one. */
  candidates(secret: string): [current: string, legacy: string] {
    return [this.hash(secret), legacySha256(secret)];
  }

  static isLegacy(stored: string): boolean {
    return !stored.startsWith(HMAC_PREFIX);
  }
}

/** How secrets were stored before (unsalted SHA-256, hex). */
export function legacySha256(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Reads the hashing key from `dataDir`, creating it (0600) on first start. */
export function loadHashingKey(dataDir: string): Buffer {
  const path = join(dataDir, HASHING_KEY_FILE);
  if (existsSync(path)) {
    chmodSync(path, 0o600);
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url');
    if (key.length >= 32) return key;
    throw new Error(
      `${path} does not hold a hashing key (32+ random bytes, base64url). Restore it from a backup: without it no API key verifies; or delete it and create the keys again.`,
    );
  }
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

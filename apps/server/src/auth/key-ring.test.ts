import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { SqliteKeyStore } from '../store/sqlite-key-store.js';
import { KeyRing } from './key-ring.js';
import { HASHING_KEY_FILE, legacySha256, loadHashingKey } from './secret-hash.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';

const dir = tempDirPerTest('tabgrid-keyring-');

it('stores secrets as an HMAC under a 0600 key file in the data dir.path, not as plain SHA-256', async () => {
  const hashingKey = loadHashingKey(dir.path);
  expect(statSync(join(dir.path, HASHING_KEY_FILE)).mode & 0o777).toBe(0o600);
  expect(loadHashingKey(dir.path).equals(hashingKey)).toBe(true);
  const store = new SqliteKeyStore(dir.path);
  const ring = await KeyRing.open(store, 'admin-token-long-enough', hashingKey);
  const { secret } = await ring.create({ name: 'alice', role: 'client' });
  const [row] = await store.listKeys();
  expect(row!.secretHash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  expect(row!.secretHash).not.toContain(legacySha256(secret));
  expect(ring.verify(secret)?.name).toBe('alice');
  // The database alone is not enough: with another server key, nothing verifies.
  const elsewhere = await KeyRing.open(store, 'admin-token-long-enough', randomBytes(32));
  expect(elsewhere.verify(secret)).toBeUndefined();
  await store.close();
});

it('still accepts a key written the old way (unsalted SHA-256), and rehashes it on first use', async () => {
  const store = new SqliteKeyStore(dir.path);
  await store.close();
  const secret = `tg_${randomBytes(24).toString('base64url')}`;
  const db = new Database(join(dir.path, 'tabgrid.sqlite'));
  db.prepare(
    'INSERT INTO api_keys (id, name, role, owner, created, secret_hash) VALUES (?, ?, ?, ?, ?, ?)',
  ).run('old-1', 'legacy', 'client', null, 1, legacySha256(secret));
  db.close();

  const reopened = new SqliteKeyStore(dir.path);
  const ring = await KeyRing.open(reopened, 'admin-token-long-enough', loadHashingKey(dir.path));
  expect(ring.verify(secret)).toMatchObject({ name: 'legacy', role: 'client' });
  expect(ring.verify('tg_not-the-secret')).toBeUndefined();
  const [row] = await reopened.listKeys();
  expect(row!.secretHash).toMatch(/^hmac-sha256:/);
  // After a restart the rehashed row still verifies.
  const again = await KeyRing.open(reopened, 'admin-token-long-enough', loadHashingKey(dir.path));
  expect(again.verify(secret)?.name).toBe('legacy');
  await reopened.close();
});

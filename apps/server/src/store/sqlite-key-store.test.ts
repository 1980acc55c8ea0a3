import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { SqliteKeyStore } from './sqlite-key-store.js';

const dir = mkdtempSync(join(tmpdir(), 'tabgrid-keys-'));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('stores keys durably, refuses duplicate names, revokes', async () => {
  const store = new SqliteKeyStore(dir);
  const key = {
    id: 'k1',
    name: 'alice',
    role: 'client' as const,
    owner: null,
    created: 5,
    secretHash: 'ab',
  };
  await store.createKey(key);
  await expect(store.createKey({ ...key, id: 'k2' })).rejects.toThrow(/UNIQUE/);
  await store.close();
  const reopened = new SqliteKeyStore(dir);
  expect(await reopened.listKeys()).toEqual([key]);
  expect(await reopened.revokeKey('k1')).toBe(true);
  expect(await reopened.revokeKey('k1')).toBe(false);
  expect(await reopened.listKeys()).toEqual([]);
  await reopened.close();
});

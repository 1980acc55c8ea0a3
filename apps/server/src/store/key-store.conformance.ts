/**
 * The conformance suite every KeyStore adapter must pass, as job-store.conformance.ts: `open(dir)`
 * opens the store on a directory, and opening it again there must find the same keys.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyStore, StoredKey } from './key-store.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';

function storedKey(id: string, patch: Partial<StoredKey> = {}): StoredKey {
  return { id, name: id, role: 'client', owner: null, created: 1, secretHash: 'ab', ...patch };
}

export function describeKeyStore(name: string, open: (dir: string) => KeyStore): void {
  describe(`KeyStore conformance: ${name}`, () => {
    const dir = tempDirPerTest('tabgrid-keys-');
    let store: KeyStore;
    beforeEach(() => {
      store = open(dir.path);
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores keys durably, refuses duplicate names, revokes', async () => {
      const key = storedKey('k1', { name: 'alice', created: 5 });
      await store.createKey(key);
      await expect(store.createKey({ ...key, id: 'k2' })).rejects.toThrow(/UNIQUE/);
      await store.close();
      store = open(dir.path);
      expect(await store.listKeys()).toEqual([key]);
      expect(await store.revokeKey('k1')).toBe(true);
      expect(await store.revokeKey('k1')).toBe(false);
      expect(await store.listKeys()).toEqual([]);
    });

    it('lists keys oldest first, with their owners, and replaces a secret hash', async () => {
      const viewer = storedKey('k3', { role: 'viewer', owner: 'alice', created: 30 });
      await store.createKey(viewer);
      await store.createKey(storedKey('k2', { role: 'admin', created: 20 }));
      await store.updateSecretHash('k3', 'hmac-sha256:cd');
      await store.updateSecretHash('missing', 'x'); // changes nothing
      await store.close();
      store = open(dir.path);
      expect(await store.listKeys()).toEqual([
        storedKey('k2', { role: 'admin', created: 20 }),
        { ...viewer, secretHash: 'hmac-sha256:cd' },
      ]);
    });

    it('hands out copies: changing a listed key changes nothing stored', async () => {
      const key = storedKey('k4');
      await store.createKey(key);
      key.name = 'changed';
      const [listed] = await store.listKeys();
      listed!.secretHash = 'changed';
      expect(await store.listKeys()).toEqual([storedKey('k4')]);
    });
  });
}

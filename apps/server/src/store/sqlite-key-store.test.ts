import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeKeyStore } from './key-store.conformance.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { SqliteKeyStore } from './sqlite-key-store.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';

const dir = tempDirPerTest('tabgrid-keys-');

describeKeyStore('SqliteKeyStore', (at) => new SqliteKeyStore(at));

it('creates the database and its -wal and -shm files readable by this user only (0600)', async () => {
  const store = new SqliteKeyStore(dir.path);
  await store.createKey({
    id: 'k9',
    name: 'perm',
    role: 'client',
    owner: null,
    created: 1,
    secretHash: 'x',
  });
  const jobs = new SqliteJobStore(dir.path);
  for (const suffix of ['', '-wal', '-shm']) {
    const mode = statSync(join(dir.path, `tabgrid.sqlite${suffix}`)).mode & 0o777;
    expect(mode.toString(8), `tabgrid.sqlite${suffix}`).toBe('600');
  }
  await jobs.close();
  await store.close();
});

it('tightens a database a previous version left world-readable', async () => {
  mkdirSync(dir.path, { recursive: true });
  writeFileSync(join(dir.path, 'tabgrid.sqlite'), '');
  chmodSync(join(dir.path, 'tabgrid.sqlite'), 0o644);
  const store = new SqliteKeyStore(dir.path);
  expect((statSync(join(dir.path, 'tabgrid.sqlite')).mode & 0o777).toString(8)).toBe('600');
  await store.close();
});

import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeJobStore, jobRecord } from './job-store.conformance.js';
import { SqliteJobStore } from './sqlite-job-store.js';

describeJobStore('SqliteJobStore', (dir) => new SqliteJobStore(dir));

describe('SqliteJobStore settled cache', () => {
  it('stays correct when more jobs are active than it caches', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabgrid-cache-'));
    const store = new SqliteJobStore(dir);
    try {
      for (let j = 0; j < 300; j++) {
        await store.createJob(jobRecord(`j${j}`), { program: 'x', argsJson: 'null' });
        await store.appendTasks(`j${j}`, 'b', 0, ['0', '1', '2']);
        await store.settle(`j${j}`, [{ seq: 1, index: 1, ok: true, payload: '1' }]);
      }
      // j0's bitmap was evicted long ago: it is read again from the outcomes.
      expect((await store.readQueued('j0', 0, 10)).map((t) => t.index)).toEqual([0, 2]);
      await store.settle('j0', [{ seq: 2, index: 1, ok: true, payload: '"again"' }]);
      expect(await store.readOutcomes('j0', 0, 'all', 10)).toHaveLength(1);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

it('moves outcomes of the earlier one-row-per-outcome table into the batch tables', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tabgrid-store-'));
  try {
    const legacy = new Database(join(dir, 'tabgrid.sqlite'));
    legacy.exec(`CREATE TABLE outcomes (
      job_id TEXT NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL, ok INTEGER NOT NULL,
      payload TEXT NOT NULL, PRIMARY KEY (job_id, seq)) WITHOUT ROWID`);
    const insert = legacy.prepare('INSERT INTO outcomes VALUES (?, ?, ?, ?, ?)');
    insert.run('j', 1, 4, 1, '8');
    insert.run('j', 2, 0, 0, '{"message":"bad"}');
    insert.run('j', 3, 2, 1, '{\n"a": 1}');
    legacy.close();
    const store = new SqliteJobStore(dir);
    expect(await store.readOutcomes('j', 0, 'all', 10)).toEqual([
      { seq: 1, index: 4, ok: true, payload: '8' },
      { seq: 2, index: 0, ok: false, payload: '{"message":"bad"}' },
      { seq: 3, index: 2, ok: true, payload: '{ "a": 1}' },
    ]);
    expect((await store.errorGroups('j', 10)).map((g) => [g.message, g.count])).toEqual([
      ['bad', 1],
    ]);
    await store.close();
    const reopened = new SqliteJobStore(dir);
    expect(await reopened.readOutcomes('j', 1, 'results', 10)).toHaveLength(1);
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

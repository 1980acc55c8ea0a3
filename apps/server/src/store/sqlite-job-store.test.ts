import { describe, expect, it } from 'vitest';
import { describeFeedStore } from './feed-store.conformance.js';
import { describeJobStore, jobRecord } from './job-store.conformance.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';

describeJobStore('SqliteJobStore', (dir) => new SqliteJobStore(dir));
describeFeedStore('SqliteJobStore', (dir) => new SqliteJobStore(dir));

describe('SqliteJobStore settled cache', () => {
  const dir = tempDirPerTest('tabgrid-cache-');
  it('stays correct when more jobs are active than it caches', async () => {
    const store = new SqliteJobStore(dir.path);
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
    }
  });
});

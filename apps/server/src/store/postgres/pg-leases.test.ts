/**
 * Leases in the database (./pg-leases.ts) with two stores on one schema standing for two nodes:
 * claims are disjoint, a heartbeat renews only its node's leases, the leases of a node that
 * stopped renewing are taken back once and claimed by the other, the first outcome for
 * (job, index) wins whichever node stores it, and seqs reserved by nodes never overlap.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { jobRecord } from '../job-store.conformance.js';
import { tempDirPerTest } from '../../testing/temp-dir-per-test.js';
import { PgJobStore } from './pg-job-store.js';
import { describeWithPostgres, schemaPerDirectory } from './pg-test-database.js';

describeWithPostgres('PgLeases: two nodes on one database', (url) => {
  const options = schemaPerDirectory(url);
  const dir = tempDirPerTest('tabgrid-pg-leases-');
  let a: PgJobStore;
  let b: PgJobStore;
  const TTL = 10_000;

  beforeEach(async () => {
    a = new PgJobStore(options(dir.path));
    b = new PgJobStore(options(dir.path));
    await a.createJob(jobRecord('j'), { program: 'x', argsJson: 'null' });
    await a.appendTasks(
      'j',
      'b1',
      0,
      Array.from({ length: 100 }, (_, i) => String(i)),
      5,
    );
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('claims disjoint batches at once, in index order, skipping settled and leased tasks', async () => {
    await a.settle('j', [{ seq: 1, index: 0, ok: true, payload: '0' }]);
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? a : b).leases.claimTasks(`n${i}`, 'j', 15, TTL, 1_000),
      ),
    );
    const all = claims.flat().map((t) => t.index);
    expect(new Set(all).size).toBe(all.length); // nobody got a task twice
    expect(all.sort((x, y) => x - y)).toEqual(Array.from({ length: 99 }, (_, i) => i + 1));
    for (const claim of claims) {
      expect(claim.map((t) => t.index)).toEqual(
        [...claim.map((t) => t.index)].sort((x, y) => x - y),
      );
    }
    expect(claims.flat().find((t) => t.index === 7)).toEqual({
      index: 7,
      input: '7',
      submittedAt: 5,
    });
    expect(await a.leases.claimTasks('late', 'j', 10, TTL, 1_000)).toEqual([]);
  });

  it('takes back the leases of a node that stopped renewing, once, for the other to claim', async () => {
    const first = await a.leases.claimTasks('alive', 'j', 10, TTL, 1_000);
    const dead = await b.leases.claimTasks('dead', 'j', 10, TTL, 1_000);
    expect(dead.map((t) => t.index)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    // One task of the dead node settled before it died: its lease is cleared, not returned.
    await b.settle('j', [{ seq: 1, index: 10, ok: true, payload: '10' }]);
    expect(await a.leases.renewLeases('alive', TTL, 9_000)).toBe(first.length);
    expect(await a.leases.takeBackExpired(10_000)).toEqual([]); // nothing expired yet
    const [x, y] = await Promise.all([
      a.leases.takeBackExpired(12_000),
      b.leases.takeBackExpired(12_000),
    ]);
    const taken = [...x, ...y].sort((p, q) => p.index - q.index);
    expect(taken).toEqual(
      [11, 12, 13, 14, 15, 16, 17, 18, 19].map((index) => ({ jobId: 'j', index, node: 'dead' })),
    );
    expect(await a.leases.takeBackExpired(12_000)).toEqual([]);
    // The taken-back tasks come first again; the renewed ones stay with their node.
    const next = await a.leases.claimTasks('alive', 'j', 12, TTL, 12_000);
    expect(next.map((t) => t.index)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]);
    expect(await a.leases.releaseTasks('alive', 'j', [20, 21, 22])).toBe(3);
    expect(await b.leases.releaseTasks('dead', 'j', [11])).toBe(0); // not its lease any more
    expect((await b.leases.claimTasks('other', 'j', 3, TTL, 12_000)).map((t) => t.index)).toEqual([
      20, 21, 22,
    ]);
  });

  it('keeps the first outcome for (job, index) whichever node stores it', async () => {
    await Promise.all([
      a.settle('j', [{ seq: 1, index: 3, ok: true, payload: '"from a"' }]),
      b.settle('j', [{ seq: 2, index: 3, ok: true, payload: '"from b"' }]),
    ]);
    const outcomes = await a.readOutcomes('j', 0, 'all', 10);
    expect(outcomes).toHaveLength(1);
    expect(['"from a"', '"from b"']).toContain(outcomes[0]!.payload);
    expect(await b.readOutcomes('j', 0, 'all', 10)).toEqual(outcomes);
  });

  it('reserves disjoint ranges of seqs across nodes', async () => {
    const firsts = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).leases.reserveSeqs('j', 5)),
    );
    expect(firsts.map(Number).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 10 }, (_, i) => 1 + i * 5),
    );
    expect(await a.leases.reserveSeqs('missing', 5)).toBeUndefined();
  });
});

/**
 * Several nodes' statements (./pg-cluster.ts) with two stores on one schema standing for two
 * nodes: claims are disjoint, a heartbeat renews only its node's claims, the claims of a node
 * that stopped renewing are taken back once and claimed by the other, a batch resent to another
 * node is not doubled, seqs follow commit order and the first outcome for (job, index) wins, and
 * the job is done when its last task settles; packed inputs and results (typed arrays) keep their
 * bytes through batch appends, claims and settles.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { fromSocketForm } from '@tabgrid/protocol/bytes';
import { packValue, unpackValue } from '@tabgrid/protocol/packed-value';
import { jobRecord } from '../job-store.conformance.js';
import { tempDirPerTest } from '../../testing/temp-dir-per-test.js';
import { PgJobStore } from './pg-job-store.js';
import { describeWithPostgres, schemaPerDirectory } from './pg-test-database.js';

describeWithPostgres('PgCluster: two nodes on one database', (url) => {
  const options = schemaPerDirectory(url);
  const dir = tempDirPerTest('tabgrid-pg-cluster-');
  let a: PgJobStore;
  let b: PgJobStore;
  const TTL = 10_000;
  const inputs = (n: number, from = 0) => Array.from({ length: n }, (_, i) => String(from + i));

  beforeEach(async () => {
    a = new PgJobStore({ ...options(dir.path), cluster: true });
    b = new PgJobStore({ ...options(dir.path), cluster: true });
    await a.createJob(jobRecord('j'), { program: 'x', argsJson: 'null' });
    expect(await a.cluster.appendBatch('j', 'b1', inputs(100), 5)).toEqual({
      firstIndex: 0,
      count: 100,
    });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('gives batches sent to two nodes their own indexes, and a resent batch its first answer', async () => {
    const [x, y] = await Promise.all([
      a.cluster.appendBatch('j', 'b2', inputs(10, 100), 6),
      b.cluster.appendBatch('j', 'b3', inputs(20, 110), 6),
    ]);
    expect([x.firstIndex, y.firstIndex].sort((p, q) => p - q)).toEqual(
      x.firstIndex === 100 ? [100, 110] : [100, 120],
    );
    // The SDK resends b2 to node b after node a died: nothing is added.
    expect(await b.cluster.appendBatch('j', 'b2', inputs(10, 100), 7)).toEqual(x);
    expect((await a.cluster.tally('j')).total).toBe(130);
    await a.cluster.close('j');
    await expect(b.cluster.appendBatch('j', 'b4', ['1'], 8)).rejects.toThrow(/closed/);
  });

  it('claims disjoint batches at once, in index order, skipping claimed tasks, with their tries', async () => {
    expect((await a.cluster.claim('n-first', 'j', 1, TTL, 1)).map((t) => t.index)).toEqual([0]);
    await a.cluster.settle('j', [{ seq: 0, index: 0, ok: true, payload: '0' }]);
    await a.saveTries('j', 7, { attempts: 2, errorRetries: 1 });
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).cluster.claim(`n${i}`, 'j', 15, TTL, 1)),
    );
    const all = claims.flat().map((t) => t.index);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort((p, q) => p - q)).toEqual(Array.from({ length: 99 }, (_, i) => i + 1));
    for (const claim of claims) {
      const indexes = claim.map((t) => t.index);
      expect(indexes).toEqual([...indexes].sort((p, q) => p - q));
    }
    expect(claims.flat().find((t) => t.index === 7)).toEqual({
      index: 7,
      input: '7',
      submittedAt: 5,
      tries: { attempts: 2, errorRetries: 1 },
    });
    expect(await a.cluster.claim('late', 'j', 10, TTL, 1)).toEqual([]);
  });

  it('takes back the claims of a node that stopped renewing, once, for the other to claim', async () => {
    const alive = await a.cluster.claim('alive', 'j', 10, TTL, 1_000);
    const dead = await b.cluster.claim('dead', 'j', 10, TTL, 1_000);
    expect(dead.map((t) => t.index)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    // One task of the dead node settled before it died: it is not claimable again.
    await b.cluster.settle('j', [{ seq: 0, index: 10, ok: true, payload: '10' }]);
    expect(await a.cluster.heartbeat('alive', TTL, 9_000, '[]')).toBe(1);
    expect(await a.cluster.takeBackExpired(10_000)).toEqual([]); // nothing expired yet
    const [x, y] = await Promise.all([
      a.cluster.takeBackExpired(12_000),
      b.cluster.takeBackExpired(12_000),
    ]);
    expect([...x, ...y]).toEqual([{ node: 'dead', jobId: 'j', tasks: 9 }]);
    expect(await a.cluster.takeBackExpired(12_000)).toEqual([]);
    const next = await a.cluster.claim('alive', 'j', 12, TTL, 12_000);
    expect(next.map((t) => t.index)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]);
    // A node giving its claims back (it stops): others claim them at once.
    await a.cluster.release('alive', 'j');
    const again = await b.cluster.claim('other', 'j', 100, TTL, 12_000);
    const unsettled = Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 10);
    expect(again.map((t) => t.index)).toEqual(unsettled);
    expect(alive.length + next.length).toBe(22);
  });

  it('keeps the first outcome for (job, index) whichever node stores it, and counts it once', async () => {
    const [x, y] = await Promise.all([
      a.cluster.settle('j', [{ seq: 0, index: 3, ok: true, payload: '"from a"' }]),
      b.cluster.settle('j', [{ seq: 0, index: 3, ok: true, payload: '"from b"' }]),
    ]);
    const outcomes = await a.readOutcomes('j', 0, 'all', 10);
    expect(outcomes).toHaveLength(1);
    expect(['"from a"', '"from b"']).toContain(outcomes[0]!.payload);
    expect(Math.max(x.finished, y.finished)).toBe(1);
    expect((await b.cluster.tally('j')).finished).toBe(1);
  });

  it('gives seqs in commit order across nodes, and marks the job done with its last outcome', async () => {
    const settles = [];
    for (let i = 0; i < 100; i += 10) {
      const store = (i / 10) % 2 ? a : b;
      settles.push(
        store.cluster.settle(
          'j',
          Array.from({ length: 10 }, (_, k) => ({
            seq: 0,
            index: i + k,
            ok: (i + k) % 7 !== 0,
            payload: String(i + k),
          })),
        ),
      );
    }
    const tallies = await Promise.all(settles);
    const outcomes = await a.readOutcomes('j', 0, 'all', 1000);
    expect(outcomes.map((o) => o.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(new Set(outcomes.map((o) => o.index)).size).toBe(100);
    expect(Math.max(...tallies.map((t) => t.lastSeq))).toBe(100);
    expect(tallies.every((t) => t.state === 'open')).toBe(true); // not closed yet
    const closed = await b.cluster.close('j');
    expect(closed).toMatchObject({ state: 'done', total: 100, finished: 85, failed: 15 });
    // Every reader sees the database's counts over whatever record a node wrote last.
    await a.updateJob({ ...jobRecord('j'), state: 'open', finished: 3 });
    const [listed] = await b.listJobs();
    expect(listed).toMatchObject({ state: 'done', finished: 85, failed: 15, lastSeq: 100 });
  });

  it('stores packed inputs and results as bytes: batch appends (both paths), claims, settles', async () => {
    const value = (n: number) => ({ n, m: new Float64Array([n, -n, 0.5]) });
    const packed = (n: number) => packValue(value(n)) as Uint8Array;
    // The first append is a group of its own (the one statement); the two queued behind it go
    // together, and the resent b1 among them sends that group through the transaction.
    const [fresh, resent, raced] = await Promise.all([
      a.cluster.appendBatch('j', 'p1', [packed(100), '"text"'], 6),
      a.cluster.appendBatch('j', 'b1', inputs(100), 6),
      a.cluster.appendBatch('j', 'p2', [packed(102)], 6),
    ]);
    expect(fresh).toEqual({ firstIndex: 100, count: 2 });
    expect(resent).toEqual({ firstIndex: 0, count: 100 });
    expect(raced).toEqual({ firstIndex: 102, count: 1 });
    const claimed: { index: number; input: unknown }[] = [];
    for (let n = 0; n < 5 && claimed.length < 103; n++) {
      claimed.push(...(await b.cluster.claim(`n${n}`, 'j', 50, TTL, 1)));
    }
    const byIndex = new Map(claimed.map((t) => [t.index, t.input]));
    expect(byIndex.get(101)).toBe('"text"');
    for (const index of [100, 102]) {
      const input = byIndex.get(index);
      expect(input).toBeInstanceOf(Uint8Array);
      expect(fromSocketForm(unpackValue(input as Uint8Array))).toEqual(value(index));
    }
    await b.cluster.settle('j', [{ seq: 0, index: 100, ok: true, payload: packed(7) }]);
    const [outcome] = await a.readOutcomes('j', 0, 'all', 10);
    expect(outcome!.index).toBe(100);
    expect(fromSocketForm(unpackValue(outcome!.payload))).toEqual(value(7));
  });

  it('notifies the other nodes on the schema’s channel', async () => {
    const heard: string[] = [];
    const stop = await b.cluster.listen(
      (payload) => heard.push(payload),
      () => undefined,
    );
    try {
      await a.cluster.notify('node-a\no:j');
      for (let i = 0; i < 50 && heard.length === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual(['node-a\no:j']);
    } finally {
      await stop();
    }
  });
});

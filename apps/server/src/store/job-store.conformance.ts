/**
 * The conformance suite every JobStore adapter must pass. An adapter's test file calls
 * `describeJobStore(name, open)`, where `open(dir)` opens the store on a directory; opening
 * twice on the same directory must see the same data (that is how durability is tested).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toTextForm } from '@tabgrid/protocol/bytes';
import { carriedText, packValue } from '@tabgrid/protocol/packed-value';
import { uncancelledProvenanceFields, unusedTaskModelFields } from '@tabgrid/protocol/stored';
import type { JobRecord, JobStore } from './job-store.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';

export function jobRecord(id: string, patch: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    owner: 'admin',
    name: id,
    group: null,
    state: 'open',
    timeoutMs: 1000,
    maxAttempts: 3,
    retryErrors: 0,
    redundancy: 1,
    maxReplicas: 3,
    disagreements: 0,
    priority: 0,
    total: 0,
    finished: 0,
    failed: 0,
    computeMs: 0,
    created: 1,
    modified: 1,
    lastResult: null,
    lastSeq: 0,
    paused: null,
    crashedTasks: 0,
    ...unusedTaskModelFields(1000, null),
    ...uncancelledProvenanceFields('0'.repeat(64), null),
    ...patch,
  };
}

export function describeJobStore(name: string, open: (dir: string) => JobStore): void {
  describe(`JobStore conformance: ${name}`, () => {
    const dir = tempDirPerTest('tabgrid-store-');
    let store: JobStore;
    beforeEach(() => {
      store = open(dir.path);
    });
    afterEach(async () => {
      await store.close();
    });

    it('creates, updates and lists jobs, and keeps their code', async () => {
      await store.createJob(jobRecord('a'), {
        program: 'function Run(d){return d}',
        argsJson: '{"k":1}',
      });
      const paused = 'Paused: 3 tasks crashed or lost their tab 3 time(s) each.';
      await store.updateJob(jobRecord('a', { state: 'closed', total: 3, paused, crashedTasks: 3 }));
      const jobs = await store.listJobs();
      expect(jobs).toHaveLength(1);
      // A paused job stays paused across a restart, with its reason and crash count.
      expect(jobs[0]).toMatchObject({
        id: 'a',
        state: 'closed',
        total: 3,
        paused,
        crashedTasks: 3,
      });
      expect(await store.getJobCode('a')).toEqual({
        program: 'function Run(d){return d}',
        argsJson: '{"k":1}',
      });
      expect(await store.getJobCode('missing')).toBeUndefined();
    });

    it('commits writes issued in one turn together and in order', async () => {
      const created = store.createJob(jobRecord('b'), { program: 'x', argsJson: 'null' });
      const appended = store.appendTasks('b', 'batch-1', 0, ['1', '2', '3']);
      const updated = store.updateJob(jobRecord('b', { total: 3 }));
      await Promise.all([created, appended, updated]);
      expect((await store.readQueued('b', 0, 10)).map((t) => t.input)).toEqual(['1', '2', '3']);
    });

    it('pages queued tasks in index order and skips settled ones', async () => {
      await store.createJob(jobRecord('c'), { program: 'x', argsJson: 'null' });
      const inputs = Array.from({ length: 10 }, (_, i) => JSON.stringify({ i }));
      await store.appendTasks('c', 'b1', 0, inputs);
      await store.settle('c', [
        { seq: 1, index: 2, ok: true, payload: '4' },
        { seq: 2, index: 3, ok: false, payload: '{"name":"Error"}' },
      ]);
      const page = await store.readQueued('c', 0, 4);
      expect(page.map((t) => t.index)).toEqual([0, 1, 4, 5]);
      expect((await store.readQueued('c', 6, 100)).map((t) => t.index)).toEqual([6, 7, 8, 9]);
      expect(page[0]?.input).toBe('{"i":0}');
    });

    it('keeps packed inputs and results (typed arrays) as the same bytes, mixed with text, across a reopen', async () => {
      await store.createJob(jobRecord('bin'), { program: 'x', argsJson: 'null' });
      const packed = (seed: number) =>
        packValue({ f: new Float32Array([seed, -seed, 0.5]), u: [new Uint8Array([seed, 255])] });
      const inputs = [packed(1), '"plain"', packed(2), '3', packed(3)];
      await store.appendTasks('bin', 'b1', 0, inputs, 5);
      const result = packed(9);
      await store.settle('bin', [
        { seq: 1, index: 2, ok: true, payload: result },
        { seq: 2, index: 1, ok: true, payload: '"done"' },
        { seq: 3, index: 3, ok: false, payload: '{"name":"Error","message":"m"}' },
      ]);
      await store.close();
      store = open(dir.path);
      const queued = await store.readQueued('bin', 0, 10);
      expect(queued.map((t) => t.index)).toEqual([0, 4]);
      expect(queued.map((t) => new Uint8Array(t.input as Uint8Array))).toEqual([
        inputs[0],
        inputs[4],
      ]);
      expect(new Uint8Array((await store.readTask('bin', 2))!.input as Uint8Array)).toEqual(
        inputs[2],
      );
      expect((await store.readTask('bin', 3))!.input).toBe('3');
      const outcomes = await store.readOutcomes('bin', 0, 'all', 10);
      expect(outcomes.map((o) => [o.seq, o.ok])).toEqual([
        [1, true],
        [2, true],
        [3, false],
      ]);
      expect(new Uint8Array(outcomes[0]!.payload as Uint8Array)).toEqual(result);
      expect(outcomes[1]!.payload).toBe('"done"');
      const withProvenance = await store.readOutcomes('bin', 0, 'results', 10, {
        provenance: true,
      });
      expect(new Uint8Array(withProvenance[0]!.payload as Uint8Array)).toEqual(result);
      const latest = await store.latestResults('bin', 10);
      expect(latest.map((o) => typeof o.payload)).toEqual(['string', 'object']);
      // The REST form of what came back is the documented text form.
      expect(JSON.parse(carriedText(outcomes[0]!.payload))).toEqual(
        toTextForm({ f: new Float32Array([9, -9, 0.5]), u: [new Uint8Array([9, 255])] }),
      );
    });

    it('reads one task as submitted, settled or not (replay)', async () => {
      await store.createJob(jobRecord('t'), { program: 'x', argsJson: 'null' });
      await store.appendTasks('t', 'b1', 0, ['"a"', '"b"']);
      await store.appendTasks('t', 'b2', 2, ['"c"', '{"d":[1]}']);
      await store.settle('t', [{ seq: 1, index: 3, ok: false, payload: '{"name":"Error"}' }]);
      expect(await store.readTask('t', 3)).toEqual({ index: 3, input: '{"d":[1]}' });
      expect(await store.readTask('t', 1)).toEqual({ index: 1, input: '"b"' });
      expect(await store.readTask('t', 4)).toBeUndefined();
      expect(await store.readTask('missing', 0)).toBeUndefined();
    });

    it('settles each task exactly once', async () => {
      await store.createJob(jobRecord('d'), { program: 'x', argsJson: 'null' });
      await store.appendTasks('d', 'b1', 0, ['1', '2']);
      await store.settle('d', [{ seq: 1, index: 0, ok: true, payload: '"first"' }]);
      await store.settle('d', [{ seq: 2, index: 0, ok: true, payload: '"second"' }]);
      const all = await store.readOutcomes('d', 0, 'all', 10);
      expect(all).toEqual([{ seq: 1, index: 0, ok: true, payload: '"first"' }]);
    });

    it('reads outcomes after a cursor, by kind', async () => {
      await store.createJob(jobRecord('e'), { program: 'x', argsJson: 'null' });
      await store.appendTasks('e', 'b1', 0, ['0', '1', '2', '3']);
      await store.settle('e', [
        { seq: 1, index: 3, ok: true, payload: '6' },
        { seq: 2, index: 0, ok: false, payload: '{}' },
        { seq: 3, index: 1, ok: true, payload: '2' },
      ]);
      expect((await store.readOutcomes('e', 0, 'all', 10)).map((o) => o.seq)).toEqual([1, 2, 3]);
      expect((await store.readOutcomes('e', 1, 'all', 10)).map((o) => o.seq)).toEqual([2, 3]);
      expect((await store.readOutcomes('e', 0, 'results', 10)).map((o) => o.index)).toEqual([3, 1]);
      expect((await store.readOutcomes('e', 0, 'errors', 10)).map((o) => o.index)).toEqual([0]);
      expect(await store.readOutcomes('e', 0, 'all', 2)).toHaveLength(2);
    });

    it('tails the latest results and groups errors by message', async () => {
      await store.createJob(jobRecord('t'), { program: 'x', argsJson: 'null' });
      await store.appendTasks('t', 'b1', 0, ['0', '1', '2', '3', '4']);
      const failure = (message: string) =>
        JSON.stringify({ name: 'Error', message, stack: 's', type: 'program' });
      await store.settle('t', [
        { seq: 1, index: 0, ok: true, payload: '10' },
        { seq: 2, index: 1, ok: false, payload: failure('bad') },
        { seq: 3, index: 2, ok: true, payload: '12' },
        { seq: 4, index: 3, ok: false, payload: failure('bad') },
        { seq: 5, index: 4, ok: false, payload: failure('worse') },
      ]);
      expect((await store.latestResults('t', 1)).map((o) => o.payload)).toEqual(['12']);
      const groups = await store.errorGroups('t', 10);
      expect(groups.map((g) => [g.message, g.count])).toEqual([
        ['bad', 2],
        ['worse', 1],
      ]);
      expect(groups[0]?.example).toMatchObject({ ok: false, index: expect.any(Number) });
      expect(JSON.parse(carriedText(groups[0]!.example.payload))).toMatchObject({ message: 'bad' });
    });

    it('remembers batches so a retried submission can be recognised', async () => {
      await store.createJob(jobRecord('f'), { program: 'x', argsJson: 'null' });
      await store.appendTasks('f', 'batch-x', 0, ['1', '2']);
      expect(await store.findBatch('f', 'batch-x')).toEqual({ firstIndex: 0, count: 2 });
      expect(await store.findBatch('f', 'batch-y')).toBeUndefined();
    });

    it("answers a job's batch lookups in the order they were asked", async () => {
      // The core numbers a batch's tasks right after its lookup: submission order depends on it.
      await store.createJob(jobRecord('l'), { program: 'x', argsJson: 'null' });
      await store.appendTasks('l', 'b-3', 0, ['1']);
      const answered: number[] = [];
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.findBatch('l', `b-${i}`).then((found) => {
            answered.push(i);
            expect(found === undefined).toBe(i !== 3);
          }),
        ),
      );
      expect(answered).toEqual(Array.from({ length: 40 }, (_, i) => i));
    });

    it('deletes a job with its tasks', async () => {
      await store.createJob(jobRecord('g'), { program: 'x', argsJson: 'null' });
      await store.appendTasks('g', 'b', 0, ['1']);
      await store.deleteJob('g');
      expect(await store.listJobs()).toEqual([]);
      expect(await store.readQueued('g', 0, 10)).toEqual([]);
    });

    it("keeps unsettled tasks' tries across a reopen, and forgets them with the job", async () => {
      await store.createJob(jobRecord('t'), { program: 'p', argsJson: 'null' });
      await store.appendTasks('t', 'b', 0, ['1', '2', '3']);
      await store.saveTries('t', 0, { attempts: 1, errorRetries: 0 });
      await store.saveTries('t', 0, { attempts: 2, errorRetries: 0 }); // the latest counts win
      await store.saveTries('t', 1, { attempts: 0, errorRetries: 3 });
      await store.saveTries('t', 2, { attempts: 1, errorRetries: 1 });
      await store.settle('t', [{ seq: 1, index: 2, ok: true, payload: '2' }]);
      await store.close();
      store = open(dir.path);
      expect(await store.readTries('t')).toEqual(
        new Map([
          [0, { attempts: 2, errorRetries: 0 }],
          [1, { attempts: 0, errorRetries: 3 }],
        ]),
      );
      await store.deleteJob('t');
      expect((await store.readTries('t')).size).toBe(0);
    });

    it('rolls back a commit that fails as a whole and rejects every write in it', async () => {
      await store.createJob(jobRecord('r'), { program: 'x', argsJson: 'null' });
      const appended = store.appendTasks('r', 'b', 0, ['1']);
      const duplicate = store.createJob(jobRecord('r'), { program: 'y', argsJson: 'null' });
      await expect(appended).rejects.toThrow();
      await expect(duplicate).rejects.toThrow();
      expect(await store.readQueued('r', 0, 10)).toEqual([]);
      expect(await store.getJobCode('r')).toEqual({ program: 'x', argsJson: 'null' });
      // The store still works after a failed commit.
      await store.appendTasks('r', 'b', 0, ['2']);
      expect(await store.readQueued('r', 0, 10)).toEqual([{ index: 0, input: '2' }]);
    });

    it('reads only committed writes and copies what it stores', async () => {
      // A read first: a store with a pool of connections then has one open, and the read below
      // leaves on it before the commit of createJob can start (else which comes first is chance).
      await store.listJobs();
      const record = jobRecord('m');
      const created = store.createJob(record, { program: 'x', argsJson: 'null' });
      expect(await store.listJobs()).toEqual([]); // not committed yet
      await created;
      record.total = 99; // the caller's object is not the stored one
      const inputs = ['1', '2'];
      await store.appendTasks('m', 'b', 0, inputs);
      inputs[0] = 'changed';
      const outcome = { seq: 1, index: 1, ok: true, payload: '4' };
      await store.settle('m', [outcome]);
      outcome.payload = 'changed';
      const [listed] = await store.listJobs();
      expect(listed?.total).toBe(0);
      listed!.total = 7;
      expect((await store.listJobs())[0]?.total).toBe(0);
      expect(await store.readQueued('m', 0, 10)).toEqual([{ index: 0, input: '1' }]);
      expect((await store.readOutcomes('m', 0, 'all', 10))[0]?.payload).toBe('4');
    });

    it('applies record updates after the writes of their commit', async () => {
      await store.createJob(jobRecord('u'), { program: 'x', argsJson: 'null' });
      const updated = store.updateJob(jobRecord('u', { total: 5 }));
      const deleted = store.deleteJob('u');
      await Promise.all([updated, deleted]);
      expect(await store.listJobs()).toEqual([]);
      const created = store.createJob(jobRecord('v'), { program: 'x', argsJson: 'null' });
      const first = store.updateJob(jobRecord('v', { total: 1 }));
      const last = store.updateJob(jobRecord('v', { total: 2 })); // the latest call wins
      await Promise.all([created, first, last]);
      expect((await store.listJobs())[0]?.total).toBe(2);
    });

    it('ignores a batch appended again and pages across batches', async () => {
      await store.createJob(jobRecord('p'), { program: 'x', argsJson: 'null' });
      await store.appendTasks('p', 'b1', 0, ['0', '1', '2']);
      await store.appendTasks('p', 'b1', 3, ['x']); // same batch id: nothing added
      await store.appendTasks('p', 'b2', 0, ['y']); // same first index: nothing added
      await store.appendTasks('p', 'b3', 3, ['3', '4']);
      await store.settle('p', [
        { seq: 1, index: 1, ok: true, payload: '1' },
        { seq: 2, index: 1, ok: true, payload: '"twice in one call"' },
        { seq: 3, index: 3, ok: true, payload: '3' },
      ]);
      expect(await store.readQueued('p', 1, 10)).toEqual([
        { index: 2, input: '2' },
        { index: 4, input: '4' },
      ]);
      expect((await store.readQueued('p', 0, 2)).map((t) => t.index)).toEqual([0, 2]);
      expect(await store.findBatch('p', 'b3')).toEqual({ firstIndex: 3, count: 2 });
      expect((await store.readOutcomes('p', 0, 'all', 10)).map((o) => o.seq)).toEqual([1, 3]);
    });

    it('reads outcomes and results across settle calls, oldest or newest first', async () => {
      await store.createJob(jobRecord('o'), { program: 'x', argsJson: 'null' });
      await store.appendTasks('o', 'b', 0, ['0', '1', '2', '3', '4', '5']);
      const fail = JSON.stringify({ name: 'Error', message: 'm', stack: '', type: 'program' });
      await store.settle('o', [
        { seq: 1, index: 0, ok: true, payload: '0' },
        { seq: 2, index: 1, ok: false, payload: fail },
      ]);
      await store.settle('o', [{ seq: 3, index: 2, ok: true, payload: '2' }]);
      await store.settle('o', [
        { seq: 4, index: 3, ok: false, payload: fail },
        { seq: 5, index: 4, ok: true, payload: '4' },
      ]);
      expect((await store.readOutcomes('o', 1, 'all', 3)).map((o) => o.seq)).toEqual([2, 3, 4]);
      expect((await store.readOutcomes('o', 2, 'results', 10)).map((o) => o.seq)).toEqual([3, 5]);
      expect((await store.readOutcomes('o', 2, 'errors', 10)).map((o) => o.seq)).toEqual([4]);
      expect(await store.readOutcomes('o', 5, 'all', 10)).toEqual([]);
      expect((await store.latestResults('o', 10)).map((o) => o.seq)).toEqual([5, 3, 1]);
      expect((await store.latestResults('o', 2)).map((o) => o.seq)).toEqual([5, 3]);
      expect(await store.latestResults('o', 0)).toEqual([]);
      const [group] = await store.errorGroups('o', 1);
      expect(group).toEqual({
        message: 'm',
        count: 2,
        example: { seq: 4, index: 3, ok: false, payload: fail },
      });
      expect(await store.errorGroups('missing', 10)).toEqual([]);
    });

    it('groups errors by their message with the numbers masked, keeping a full example', async () => {
      await store.createJob(jobRecord('n'), { program: 'x', argsJson: 'null' });
      await store.appendTasks('n', 'b', 0, ['0', '1', '2', '3', '4']);
      const failure = (message: string) =>
        JSON.stringify({ name: 'Error', message, stack: 's', type: 'program' });
      await store.settle('n', [
        { seq: 1, index: 0, ok: false, payload: failure('bad pixel 7') },
        { seq: 2, index: 1, ok: false, payload: failure('bad pixel 57') },
        { seq: 3, index: 2, ok: false, payload: failure('row 3, bad pixel 1024') },
        { seq: 4, index: 3, ok: false, payload: failure('bad pixel 8') },
        { seq: 5, index: 4, ok: false, payload: failure('bad pixel x') },
      ]);
      const groups = await store.errorGroups('n', 10);
      expect(groups.map((g) => [g.message, g.count])).toEqual([
        ['bad pixel #', 3],
        // Equal counts in the order of their messages, in both stores.
        ['bad pixel x', 1],
        ['row #, bad pixel #', 1],
      ]);
      // The example is the group's newest failure, with its message whole.
      expect(groups[0]!.example).toMatchObject({ seq: 4, index: 3 });
      expect(JSON.parse(carriedText(groups[0]!.example.payload))).toMatchObject({
        message: 'bad pixel 8',
      });
      const row = groups.find((g) => g.message === 'row #, bad pixel #');
      expect(JSON.parse(carriedText(row!.example.payload))).toMatchObject({
        message: 'row 3, bad pixel 1024',
      });
    });

    it('commits what is queued when it closes', async () => {
      const created = store.createJob(jobRecord('q'), { program: 'x', argsJson: 'null' });
      const appended = store.appendTasks('q', 'b', 0, ['1']);
      await store.close();
      await Promise.all([created, appended]);
      store = open(dir.path);
      expect((await store.listJobs()).map((j) => j.id)).toEqual(['q']);
      expect(await store.readQueued('q', 0, 10)).toEqual([{ index: 0, input: '1' }]);
    });

    it('keeps every acknowledged write across a reopen', async () => {
      await store.createJob(jobRecord('h'), { program: 'p', argsJson: 'null' });
      await store.appendTasks('h', 'b', 0, ['1', '2', '3']);
      await store.settle('h', [{ seq: 1, index: 1, ok: true, payload: '4' }]);
      await store.updateJob(jobRecord('h', { total: 3, finished: 1, lastSeq: 1 }));
      await store.close();
      store = open(dir.path);
      expect((await store.listJobs())[0]).toMatchObject({
        id: 'h',
        total: 3,
        finished: 1,
        lastSeq: 1,
      });
      expect((await store.readQueued('h', 0, 10)).map((t) => t.index)).toEqual([0, 2]);
      expect(await store.readOutcomes('h', 0, 'all', 10)).toHaveLength(1);
    });

    it('keeps provenance and submission times, and reads them back only when asked', async () => {
      await store.createJob(jobRecord('p'), { program: 'p', argsJson: 'null' });
      await store.appendTasks('p', 'b1', 0, ['1', '2', '3'], 1000);
      await store.appendTasks('p', 'b2', 3, ['4']); // none given: none read back
      const failure = JSON.stringify({ name: 'E', message: 'm', stack: '', type: 'program' });
      const ran = { workerId: 'w-1', attempt: 1, runMs: 2.5, queuedMs: 30 };
      const never = { workerId: null, attempt: 0, runMs: null, queuedMs: null };
      await store.settle('p', [
        { seq: 1, index: 0, ok: true, payload: '"a,b\nc"', provenance: ran },
        { seq: 2, index: 1, ok: false, payload: failure, provenance: never },
        { seq: 3, index: 2, ok: true, payload: '3' }, // stored without any
      ]);
      // A duplicate with other provenance changes nothing.
      await store.settle('p', [
        { seq: 4, index: 0, ok: true, payload: '9', provenance: { ...ran, workerId: 'w-2' } },
      ]);
      await store.close();
      store = open(dir.path);
      expect(await store.readQueued('p', 0, 10)).toStrictEqual([{ index: 3, input: '4' }]);
      const all = await store.readOutcomes('p', 0, 'all', 10, { provenance: true });
      expect(all.map((o) => [o.seq, o.provenance])).toEqual([
        [1, ran],
        [2, never],
        [3, undefined],
      ]);
      expect(
        (await store.readOutcomes('p', 1, 'results', 10, { provenance: true })).map((o) => o.seq),
      ).toEqual([3]);
      expect(await store.readOutcomes('p', 0, 'errors', 10, { provenance: true })).toEqual([
        { seq: 2, index: 1, ok: false, payload: failure, provenance: never },
      ]);
      // Plain reads carry none.
      for (const kind of ['all', 'results', 'errors'] as const) {
        for (const o of await store.readOutcomes('p', 0, kind, 10)) {
          expect(o).not.toHaveProperty('provenance');
        }
      }
      await store.appendTasks('p', 'b3', 4, ['5'], 2000);
      expect(await store.readQueued('p', 4, 10)).toStrictEqual([
        { index: 4, input: '5', submittedAt: 2000 },
      ]);
    });
  });
}

/**
 * The conformance suite of the JobStore's feed half (schema version 3): logs, events, series
 * settled with their outcomes, messages, notes, the cascade of deleteJob and the latest job by
 * name. Every adapter's test file calls `describeFeedStore(name, open)` beside
 * `describeJobStore`; `open(dir)` twice on one directory must see the same data.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '@tabgrid/protocol/errors';
import {
  eventLineText,
  logLineText,
  seriesLine,
  type JobStore,
  type StoredOutcome,
} from './job-store.js';
import { FEED_ROW_LINES } from './feed-lines.js';
import { jobRecord } from './job-store.conformance.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';

const logLine = (index: number | null, message: string, count = 1, at = 1_000) =>
  logLineText({ index, level: 'log', message, count, workerId: 'w-1', at });
const eventLine = (index: number | null, name: string, data: unknown, at = 2_000) =>
  eventLineText({ index, name, data, at });
const ok = (seq: number, index: number): StoredOutcome => ({
  seq,
  index,
  ok: true,
  payload: String(index),
});
const corrupt = (table: string) => ({
  code: ErrorCode.INTERNAL,
  message: expect.stringContaining(`row of ${table}`),
});

export function describeFeedStore(name: string, open: (dir: string) => JobStore): void {
  describe(`JobStore feeds conformance: ${name}`, () => {
    const dir = tempDirPerTest('tabgrid-feeds-');
    let store: JobStore;
    beforeEach(() => {
      store = open(dir.path);
    });
    afterEach(async () => {
      await store.close();
    });
    const reopen = async () => {
      await store.close();
      store = open(dir.path);
    };
    const create = (id: string, patch: Parameters<typeof jobRecord>[1] = {}) =>
      store.createJob(jobRecord(id, patch), { program: 'x', argsJson: 'null' });

    it('appends log lines and reads them from a cursor, decoded, across a reopen', async () => {
      await create('a');
      await store.appendLogs('a', 1, [logLine(0, 'one'), logLine(null, 'setup', 50)]);
      await store.appendLogs('a', 3, [logLine(2, 'three')]);
      await store.appendLogs('a', 4, []); // nothing to store
      await reopen();
      expect(await store.readLogs('a', 0, 10)).toEqual([
        { seq: 1, index: 0, level: 'log', message: 'one', count: 1, workerId: 'w-1', at: 1_000 },
        {
          seq: 2,
          index: null,
          level: 'log',
          message: 'setup',
          count: 50,
          workerId: 'w-1',
          at: 1_000,
        },
        { seq: 3, index: 2, level: 'log', message: 'three', count: 1, workerId: 'w-1', at: 1_000 },
      ]);
      expect((await store.readLogs('a', 1, 10)).map((l) => l.seq)).toEqual([2, 3]);
      expect((await store.readLogs('a', 1, 1)).map((l) => l.seq)).toEqual([2]);
      expect(await store.readLogs('a', 3, 10)).toEqual([]);
      expect(await store.readLogs('missing', 0, 10)).toEqual([]);
      expect(await store.readLogs('a', 0, 0)).toEqual([]);
      // A line's place decides its seq, whatever its text says.
      await store.appendLogs('a', 4, [JSON.stringify({ ...JSON.parse(logLine(0, 'x')), seq: 99 })]);
      expect((await store.readLogs('a', 3, 10)).map((l) => l.seq)).toEqual([4]);
    });

    it('pages through an append larger than one stored row', async () => {
      await create('big');
      const n = FEED_ROW_LINES * 2 + 7;
      const lines = Array.from({ length: n }, (_, i) => logLine(i, `line ${i}`));
      await store.appendLogs('big', 1, lines);
      await store.appendLogs('big', n + 1, [logLine(null, 'after')]);
      const page = await store.readLogs('big', FEED_ROW_LINES - 2, 5);
      expect(page.map((l) => l.seq)).toEqual([999, 1000, 1001, 1002, 1003].map((s) => s));
      expect(page.map((l) => l.message)).toEqual(page.map((l) => `line ${l.seq - 1}`));
      let cursor = 0;
      let read = 0;
      for (;;) {
        const rows = await store.readLogs('big', cursor, 700);
        if (rows.length === 0) break;
        expect(rows[0]!.seq).toBe(cursor + 1);
        read += rows.length;
        cursor = rows[rows.length - 1]!.seq;
      }
      expect(read).toBe(n + 1);
    });

    it('stores events with their data and keeps logs and events apart', async () => {
      await create('e');
      const data = { rows: [1, 2], nested: { s: 'a\nb' } };
      await store.appendEvents('e', 1, [eventLine(null, 'loaded', data), eventLine(4, 'tick', 7)]);
      await store.appendLogs('e', 1, [logLine(4, 'hello')]);
      expect(await store.readEvents('e', 0, 10)).toEqual([
        { seq: 1, index: null, name: 'loaded', data, at: 2_000 },
        { seq: 2, index: 4, name: 'tick', data: 7, at: 2_000 },
      ]);
      expect(await store.readEvents('e', 1, 10)).toEqual([
        { seq: 2, index: 4, name: 'tick', data: 7, at: 2_000 },
      ]);
      expect((await store.readLogs('e', 0, 10)).map((l) => l.message)).toEqual(['hello']);
    });

    it('refuses to read back a line that is no log line, saying what to do', async () => {
      await create('bad');
      await store.appendLogs('bad', 1, ['{"index":1,"level":"shout"}']);
      await store.appendEvents('bad', 1, ['not json']);
      await expect(store.readLogs('bad', 0, 10)).rejects.toMatchObject(corrupt('job_logs'));
      await expect(store.readEvents('bad', 0, 10)).rejects.toMatchObject(corrupt('job_events'));
    });

    it('fails a commit that appends a seq stored already, as a whole', async () => {
      await create('d');
      await store.appendLogs('d', 1, [logLine(0, 'first')]);
      const again = store.appendLogs('d', 1, [logLine(0, 'again')]);
      const other = store.appendEvents('d', 1, [eventLine(0, 'x', null)]);
      await expect(again).rejects.toThrow();
      await expect(other).rejects.toThrow();
      expect((await store.readLogs('d', 0, 10)).map((l) => l.message)).toEqual(['first']);
      expect(await store.readEvents('d', 0, 10)).toEqual([]);
    });

    it('stores series with their outcomes and reads them by label from an outcome seq', async () => {
      await create('s');
      await store.appendTasks('s', 'b', 0, ['0', '1', '2', '3']);
      await store.settle(
        's',
        [ok(1, 2), ok(2, 0)],
        [
          { label: 'loss', lines: [seriesLine(1, 2, '[0.5,0.25]'), seriesLine(2, 0, '[1]')] },
          { label: 'acc', lines: [seriesLine(2, 0, '[{"a":"x,y"}]')] },
        ],
      );
      await store.settle('s', [ok(3, 3)], [{ label: 'loss', lines: [seriesLine(3, 3, '[]')] }]);
      await store.settle('s', [ok(4, 1)]); // the plain path: no series
      await reopen();
      expect(await store.readSeries('s', 'loss', 0, 10)).toEqual([
        { seq: 1, index: 2, values: '[0.5,0.25]' },
        { seq: 2, index: 0, values: '[1]' },
        { seq: 3, index: 3, values: '[]' },
      ]);
      expect(await store.readSeries('s', 'loss', 1, 1)).toEqual([
        { seq: 2, index: 0, values: '[1]' },
      ]);
      expect(await store.readSeries('s', 'acc', 0, 10)).toEqual([
        { seq: 2, index: 0, values: '[{"a":"x,y"}]' },
      ]);
      expect(await store.readSeries('s', 'loss', 3, 10)).toEqual([]);
      expect(await store.readSeries('s', 'none', 0, 10)).toEqual([]);
      expect(await store.seriesLabels('s', 10)).toEqual(['acc', 'loss']);
      expect(await store.seriesLabels('s', 1)).toEqual(['acc']);
      expect(await store.seriesLabels('missing', 10)).toEqual([]);
      expect((await store.readOutcomes('s', 0, 'all', 10)).map((o) => o.seq)).toEqual([1, 2, 3, 4]);
    });

    it("drops a duplicate's series with it: a task's series are its settled attempt's", async () => {
      await create('x');
      await store.appendTasks('x', 'b', 0, ['0', '1']);
      await store.settle('x', [ok(1, 0)], [{ label: 'v', lines: [seriesLine(1, 0, '["first"]')] }]);
      await store.settle(
        'x',
        [ok(2, 0), ok(3, 1), ok(4, 1)], // index 0 settled before; index 1 twice in this call
        [
          {
            label: 'v',
            lines: [seriesLine(2, 0, '["late"]'), seriesLine(3, 1, '[1]'), seriesLine(4, 1, '[2]')],
          },
          { label: 'only-late', lines: [seriesLine(2, 0, '["late"]')] },
        ],
      );
      expect(await store.readSeries('x', 'v', 0, 10)).toEqual([
        { seq: 1, index: 0, values: '["first"]' },
        { seq: 3, index: 1, values: '[1]' },
      ]);
      expect(await store.seriesLabels('x', 10)).toEqual(['v']);
    });

    it('settles of one turn: the first outcome for an index wins, with its series only', async () => {
      await create('y');
      await create('z');
      await store.appendTasks('y', 'b', 0, ['0', '1']);
      await store.appendTasks('z', 'b', 0, ['0']);
      const v = (seq: number, index: number, value: string) => [
        { label: 'v', lines: [seriesLine(seq, index, value)] },
      ];
      await Promise.all([
        store.settle('y', [ok(1, 0)], v(1, 0, '["y first"]')),
        store.settle('z', [ok(1, 0)], v(1, 0, '["z"]')),
        store.settle(
          'y',
          [ok(2, 0), ok(3, 1)],
          [{ label: 'v', lines: [seriesLine(2, 0, '["y late"]'), seriesLine(3, 1, '["y1"]')] }],
        ),
        store.settle('y', [ok(4, 1)]),
      ]);
      expect((await store.readOutcomes('y', 0, 'all', 10)).map((o) => o.seq)).toEqual([1, 3]);
      expect((await store.readOutcomes('z', 0, 'all', 10)).map((o) => o.seq)).toEqual([1]);
      expect(await store.readSeries('y', 'v', 0, 10)).toEqual([
        { seq: 1, index: 0, values: '["y first"]' },
        { seq: 3, index: 1, values: '["y1"]' },
      ]);
      expect(await store.readSeries('z', 'v', 0, 10)).toEqual([
        { seq: 1, index: 0, values: '["z"]' },
      ]);
    });

    it('commits series only with their outcomes: a failed commit leaves neither', async () => {
      await create('f');
      await store.appendTasks('f', 'b', 0, ['0']);
      const settled = store.settle(
        'f',
        [ok(1, 0)],
        [{ label: 'v', lines: [seriesLine(1, 0, '[1]')] }],
      );
      const duplicate = create('f'); // fails this commit as a whole
      await expect(settled).rejects.toThrow();
      await expect(duplicate).rejects.toThrow();
      await reopen();
      expect(await store.readOutcomes('f', 0, 'all', 10)).toEqual([]);
      expect(await store.readSeries('f', 'v', 0, 10)).toEqual([]);
      expect(await store.seriesLabels('f', 10)).toEqual([]);
      // The task is still unsettled: its next attempt stores outcome and series.
      await store.settle('f', [ok(2, 0)], [{ label: 'v', lines: [seriesLine(2, 0, '[2]')] }]);
      expect(await store.readSeries('f', 'v', 0, 10)).toEqual([
        { seq: 2, index: 0, values: '[2]' },
      ]);
    });

    it('pages series of a settle larger than one stored row', async () => {
      await create('p');
      const n = FEED_ROW_LINES + 10;
      const outcomes = Array.from({ length: n }, (_, i) => ok(i + 1, i));
      const lines = outcomes.map((o) => seriesLine(o.seq, o.index, `[${o.index}]`));
      await store.settle('p', outcomes, [{ label: 'v', lines }]);
      const page = await store.readSeries('p', 'v', FEED_ROW_LINES - 1, 3);
      expect(page).toEqual([
        { seq: 1000, index: 999, values: '[999]' },
        { seq: 1001, index: 1000, values: '[1000]' },
        { seq: 1002, index: 1001, values: '[1001]' },
      ]);
      expect(await store.readSeries('p', 'v', 0, n + 5)).toHaveLength(n);
    });

    it('stores a message once per message id, and reads messages from a cursor', async () => {
      await create('m');
      await store.appendMessage('m', 1, 'id-1', '{"go":1}', 5_000);
      await store.appendMessage('m', 2, 'id-2', '[1,2]', 5_001);
      expect(await store.findMessage('m', 'id-2')).toBe(2);
      expect(await store.findMessage('m', 'id-3')).toBeUndefined();
      expect(await store.findMessage('other', 'id-1')).toBeUndefined();
      // A resend (same id) or a reused seq adds nothing, and fails nothing committed with it.
      const resend = store.appendMessage('m', 3, 'id-1', '"changed"', 5_002);
      const reused = store.appendMessage('m', 2, 'id-4', '"changed"', 5_002);
      const logged = store.appendLogs('m', 1, [logLine(null, 'beside')]);
      await Promise.all([resend, reused, logged]);
      await reopen();
      expect(await store.readMessages('m', 0, 10)).toEqual([
        { seq: 1, messageId: 'id-1', data: '{"go":1}', at: 5_000 },
        { seq: 2, messageId: 'id-2', data: '[1,2]', at: 5_001 },
      ]);
      expect(await store.readMessages('m', 1, 10)).toEqual([
        { seq: 2, messageId: 'id-2', data: '[1,2]', at: 5_001 },
      ]);
      expect(await store.readMessages('m', 0, 1)).toHaveLength(1);
      expect(await store.findMessage('m', 'id-4')).toBeUndefined();
      expect(await store.readLogs('m', 0, 10)).toHaveLength(1);
    });

    it('keeps the newest notes per owner and reads them since a time, oldest first', async () => {
      for (let i = 1; i <= 5; i++) await store.addNote('alice', i * 10, `a${i}`, 3);
      await store.addNote('bob', 25, 'b1', 3);
      await store.addNote('bob', 25, 'b2', 3); // same time: kept in the order added
      await reopen();
      expect(await store.readNotes('alice', 0, 10)).toEqual([
        { owner: 'alice', at: 30, text: 'a3' },
        { owner: 'alice', at: 40, text: 'a4' },
        { owner: 'alice', at: 50, text: 'a5' },
      ]);
      expect((await store.readNotes('alice', 40, 10)).map((n) => n.text)).toEqual(['a4', 'a5']);
      expect((await store.readNotes('alice', 0, 2)).map((n) => n.text)).toEqual(['a4', 'a5']);
      expect((await store.readNotes(undefined, 0, 10)).map((n) => n.text)).toEqual([
        'b1',
        'b2',
        'a3',
        'a4',
        'a5',
      ]);
      expect(await store.readNotes('carol', 0, 10)).toEqual([]);
      expect(await store.readNotes('alice', 0, 0)).toEqual([]);
    });

    it("deletes a job's logs, events, series and messages with it, and nothing else", async () => {
      for (const id of ['gone', 'kept']) {
        await create(id);
        await store.appendTasks(id, 'b', 0, ['0']);
        await store.appendLogs(id, 1, [logLine(0, id)]);
        await store.appendEvents(id, 1, [eventLine(0, id, null)]);
        await store.settle(id, [ok(1, 0)], [{ label: id, lines: [seriesLine(1, 0, '[1]')] }]);
        await store.appendMessage(id, 1, 'm', '1', 1);
      }
      await store.addNote('admin', 1, 'stays', 10);
      await store.deleteJob('gone');
      await reopen();
      expect(await store.readLogs('gone', 0, 10)).toEqual([]);
      expect(await store.readEvents('gone', 0, 10)).toEqual([]);
      expect(await store.readSeries('gone', 'gone', 0, 10)).toEqual([]);
      expect(await store.seriesLabels('gone', 10)).toEqual([]);
      expect(await store.readMessages('gone', 0, 10)).toEqual([]);
      expect(await store.findMessage('gone', 'm')).toBeUndefined();
      expect(await store.readLogs('kept', 0, 10)).toHaveLength(1);
      expect(await store.readEvents('kept', 0, 10)).toHaveLength(1);
      expect(await store.seriesLabels('kept', 10)).toEqual(['kept']);
      expect(await store.readMessages('kept', 0, 10)).toHaveLength(1);
      expect(await store.readNotes('admin', 0, 10)).toHaveLength(1);
      // The id can be used again from nothing (a message id, a log seq).
      await store.appendLogs('gone', 1, [logLine(0, 'new')]);
      await store.appendMessage('gone', 1, 'm', '2', 2);
      expect((await store.readMessages('gone', 0, 10))[0]?.data).toBe('2');
    });

    it('finds the latest job of a name, per owner or of any owner', async () => {
      await create('old', { name: 'exp', created: 100 });
      await create('new', { name: 'exp', created: 200 });
      await create('tie', { name: 'exp', created: 200 }); // created later at the same time
      await create('other-name', { name: 'other', created: 300 });
      await create('alices', { name: 'exp', owner: 'alice', created: 150 });
      expect((await store.latestJobByName('admin', 'exp'))?.id).toBe('tie');
      expect((await store.latestJobByName('alice', 'exp'))?.id).toBe('alices');
      expect((await store.latestJobByName(undefined, 'exp'))?.id).toBe('tie');
      expect(await store.latestJobByName('admin', 'nope')).toBeUndefined();
      expect(await store.latestJobByName('bob', 'exp')).toBeUndefined();
      await store.deleteJob('tie');
      await store.deleteJob('new');
      await reopen();
      expect(await store.latestJobByName('admin', 'exp')).toEqual(
        jobRecord('old', { name: 'exp', created: 100 }),
      );
    });

    it("keeps a record's version 3 fields, copied in and out", async () => {
      const record = jobRecord('r', {
        setupTimeoutMs: 500,
        progressTimeoutMs: 2_000,
        setups: { count: 2, totalMs: 30.5, maxMs: 20 },
        logSeq: 10,
        logsDropped: 1_204,
        eventSeq: 3,
        eventsDropped: 0,
        seriesBytes: 4_096,
        seriesDropped: 2,
        messageSeq: 1,
        cpuMs: 1234.5,
        peakHeapBytes: 2 ** 30,
      });
      await store.createJob(record, { program: 'x', argsJson: 'null' });
      const updated = store.updateJob(record);
      record.setups.count = 99; // after the call: not what commits
      await updated;
      await reopen();
      const [listed] = await store.listJobs();
      expect(listed).toEqual({ ...record, setups: { count: 2, totalMs: 30.5, maxMs: 20 } });
      listed!.setups.count = 7;
      expect((await store.listJobs())[0]?.setups.count).toBe(2);
    });
  });
}

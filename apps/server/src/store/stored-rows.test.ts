import Database from 'better-sqlite3';
import { carriedText } from '@tabgrid/protocol/packed-value';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { jobRecord } from './job-store.conformance.js';
import { lineIndexes, outcomeLine, parseLines } from './outcome-lines.js';
import { errorMessage } from './error-message.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { SqliteKeyStore } from './sqlite-key-store.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
const corrupt = (table: string) => ({
  code: ErrorCode.INTERNAL,
  message: expect.stringContaining(`row of ${table}`),
});
const failure = {
  name: 'Error',
  message: 'bad, really',
  stack: 'Error: bad\n  at Run',
  type: 'program',
};

describe('outcome lines', () => {
  it('round-trips outcomes whose payloads hold commas and newlines', () => {
    const outcomes = [
      { seq: 1, index: 7, ok: true, payload: '{"a":"x,y","b":[1,2]}' },
      { seq: 2, index: 0, ok: false, payload: JSON.stringify(failure) },
      { seq: 3, index: 12, ok: true, payload: '[\n1,\n2]' }, // raw newlines: JSON whitespace
      { seq: 4, index: 3, ok: true, payload: '""' },
    ];
    const lines = outcomes.map(outcomeLine).join('\n');
    const back = parseLines(lines);
    expect(back.map((o) => JSON.parse(carriedText(o.payload)) as unknown)).toEqual(
      outcomes.map((o) => JSON.parse(carriedText(o.payload)) as unknown),
    );
    expect(back.map(({ seq, index, ok }) => [seq, index, ok])).toEqual(
      outcomes.map(({ seq, index, ok }) => [seq, index, ok]),
    );
    expect([...lineIndexes(lines)]).toEqual([7, 0, 12, 3]);
  });

  it('refuses lines that are not "seq,index,ok,payload"', () => {
    for (const bad of [
      '',
      'x,1,1,2',
      '1,-1,1,2',
      '1,2,7,2',
      '1,2',
      '1.5,2,1,3',
      '0,2,1,3',
      '1,2,1',
    ]) {
      expect(
        thrown(() => parseLines(bad)),
        bad,
      ).toMatchObject(corrupt('outcome_batches'));
    }
    expect(thrown(() => [...lineIndexes('1,x,1,2')])).toMatchObject(corrupt('outcome_batches'));
  });
});

describe('errorMessage', () => {
  it("finds a failure's message without ever throwing", () => {
    expect(errorMessage(JSON.stringify(failure))).toBe('bad, really');
    expect(errorMessage('{"message":5}')).toBe('');
    expect(errorMessage('null')).toBe('');
    expect(errorMessage('not json')).toBe('');
  });
});

describe('rows that do not decode', () => {
  const dir = tempDirPerTest('tabgrid-rows-');
  const raw = (sql: string): void => {
    const db = new Database(join(dir.path, 'tabgrid.sqlite'));
    db.exec(sql);
    db.close();
  };

  it('fail loudly, naming the table, instead of flowing on', async () => {
    const store = new SqliteJobStore(dir.path);
    await store.createJob(jobRecord('j'), { program: 'p', argsJson: 'null' });
    await store.appendTasks('j', 'b', 0, ['1', '2']);
    await store.settle('j', [{ seq: 1, index: 0, ok: false, payload: JSON.stringify(failure) }]);
    await store.saveTries('j', 1, { attempts: 1, errorRetries: 0 });
    await store.close();
    raw(`UPDATE jobs SET record = json_set(record, '$.total', -1);
         UPDATE task_tries SET attempts = 'many';
         UPDATE outcome_errors SET seq = 'one';
         UPDATE outcome_batches SET lines = 'garbage';
         UPDATE task_batches SET first_index = 'zero';
         INSERT INTO api_keys VALUES ('k', 'root', 'root', NULL, 1, 'h');`);
    const reopened = new SqliteJobStore(dir.path);
    const keys = new SqliteKeyStore(dir.path);
    try {
      expect(thrown(() => reopened.listJobs())).toMatchObject(corrupt('jobs'));
      expect(thrown(() => reopened.readOutcomes('j', 0, 'all', 10))).toMatchObject(
        corrupt('outcome_batches'),
      );
      expect(thrown(() => reopened.readOutcomes('j', 0, 'errors', 10))).toMatchObject(
        corrupt('outcome_errors'),
      );
      expect(thrown(() => reopened.readTries('j'))).toMatchObject(corrupt('outcome_batches'));
      expect(thrown(() => reopened.findBatch('j', 'b'))).toMatchObject(corrupt('task_batches'));
      expect(thrown(() => keys.listKeys())).toMatchObject(corrupt('api_keys'));
      raw("DELETE FROM outcome_batches; UPDATE jobs SET record = json_set(record, '$.total', 0)");
      expect(thrown(() => reopened.readTries('j'))).toMatchObject(corrupt('task_tries'));
    } finally {
      await reopened.close();
      await keys.close();
    }
  });

  it('fail loudly in the feed tables too (schema version 3)', async () => {
    const store = new SqliteJobStore(dir.path);
    await store.createJob(jobRecord('f'), { program: 'p', argsJson: 'null' });
    const line = JSON.stringify({
      index: 0,
      level: 'log',
      message: 'm',
      count: 1,
      workerId: 'w',
      at: 1,
    });
    await store.appendLogs('f', 1, [line]);
    await store.appendEvents('f', 1, [JSON.stringify({ index: null, name: 'e', data: 1, at: 1 })]);
    await store.settle(
      'f',
      [{ seq: 1, index: 0, ok: true, payload: '1' }],
      [{ label: 'v', lines: ['1,0,[1]'] }],
    );
    await store.appendMessage('f', 1, 'm', '1', 1);
    await store.addNote('admin', 1, 'n', 10);
    await store.close();
    raw(`UPDATE job_logs SET lines = '{"index":0,"level":"log","message":"m","count":0,"workerId":"w","at":1}';
         UPDATE job_events SET first_seq = 'first';
         UPDATE series_batches SET lines = '1,x,[1]';
         UPDATE job_messages SET at = 'now';
         UPDATE notes SET text = x'00';`);
    const reopened = new SqliteJobStore(dir.path);
    try {
      await expect(reopened.readLogs('f', 0, 10)).rejects.toMatchObject(corrupt('job_logs'));
      await expect(reopened.readEvents('f', 0, 10)).rejects.toMatchObject(corrupt('job_events'));
      await expect(reopened.readSeries('f', 'v', 0, 10)).rejects.toMatchObject(
        corrupt('series_batches'),
      );
      await expect(reopened.readMessages('f', 0, 10)).rejects.toMatchObject(
        corrupt('job_messages'),
      );
      await expect(reopened.readNotes(undefined, 0, 10)).rejects.toMatchObject(corrupt('notes'));
    } finally {
      await reopened.close();
    }
  });
});

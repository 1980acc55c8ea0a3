import Database from 'better-sqlite3';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDecoder } from '@tabgrid/protocol/codec';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { StoredJobRecordV2 } from '@tabgrid/protocol/stored';
import { seriesLine } from './job-store.js';
import { SCHEMA_VERSION, completeJobRecordV2, completeJobRecordV3 } from './migrations.js';
import { LATEST_BY_NAME_SQL } from './sqlite-feed-statements.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { SqliteKeyStore } from './sqlite-key-store.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';

/** Written by the store at schema version 2 (fixtures/make-v2-fixture.mjs), with what it wrote beside it. */
const FIXTURE = fileURLToPath(new URL('./fixtures/v2.sqlite', import.meta.url));
const WRITTEN: unknown = JSON.parse(
  readFileSync(new URL('./fixtures/v2.json', import.meta.url), 'utf8'),
);

/** The fixture's value at `path` (checked on the way: the fixture is data read from disk). */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) throw new Error(`fixture has no ${path.join('.')}`);
    v = Reflect.get(v, key);
  }
  return v;
}
function list(value: unknown, ...path: (string | number)[]): unknown[] {
  const v = at(value, ...path);
  if (!Array.isArray(v)) throw new Error(`fixture's ${path.join('.')} is no list`);
  return v;
}
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const decodeV2 = createDecoder(StoredJobRecordV2, 'fixture job');
const byId = <T extends { id: string }>(items: T[]): T[] =>
  [...items].sort((a, b) => a.id.localeCompare(b.id));
const TABLES_3 = [
  'job_events',
  'job_logs',
  'job_messages',
  'notes',
  'series_batches',
  'series_labels',
];

describe('migration 2 → 3', () => {
  const dir = tempDirPerTest('tabgrid-migrate-v2-');
  let path: string;
  const inspect = <T>(read: (db: Database.Database) => T): T => {
    const db = new Database(path, { readonly: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  };
  const version = () => inspect((db) => db.pragma('user_version', { simple: true }));
  const tables = () =>
    inspect((db) =>
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all(),
    );

  beforeEach(() => {
    path = join(dir.path, 'tabgrid.sqlite');
    copyFileSync(FIXTURE, path); // never the committed file itself
  });

  it('opens a version 2 file, completes its records and reads everything back', async () => {
    expect(version()).toBe(2);
    expect(tables()).not.toContain('job_logs');
    const jobs = new SqliteJobStore(dir.path);
    const keys = new SqliteKeyStore(dir.path);
    expect(version()).toBe(SCHEMA_VERSION);
    expect(tables()).toEqual(expect.arrayContaining(TABLES_3));

    const written = list(WRITTEN, 'jobs').map((j) => {
      const v2 = decodeV2(j);
      const program = at(WRITTEN, 'code', v2.id, 'program');
      if (typeof program !== 'string') throw new Error('fixture: a job without its program');
      return completeJobRecordV3(completeJobRecordV2(v2), program);
    });
    const records = await jobs.listJobs();
    expect(byId(records)).toEqual(byId(written));
    // A job from before version 3 shows what a job that used none of it shows.
    expect(records.find((r) => r.id === 'job-open')).toMatchObject({
      timeoutMs: 30000,
      setupTimeoutMs: 30000, // its Setup is bounded by its timeout, as a new job's is by default
      progressTimeoutMs: null,
      setups: { count: 0, totalMs: 0, maxMs: 0 },
      logSeq: 0,
      logsDropped: 0,
      eventSeq: 0,
      eventsDropped: 0,
      seriesBytes: 0,
      seriesDropped: 0,
      messageSeq: 0,
      cpuMs: 0,
      peakHeapBytes: null,
      paused: null,
      retryErrors: 2,
    });
    expect(records.find((r) => r.id === 'job-paused')).toMatchObject({
      paused: expect.stringMatching(/^Paused: 3 tasks/),
      setupTimeoutMs: 60000,
    });

    for (const { id } of written) {
      expect(await jobs.getJobCode(id)).toEqual(at(WRITTEN, 'code', id));
      const outcomes = list(WRITTEN, 'outcomes', id);
      expect(await jobs.readOutcomes(id, 0, 'all', 100)).toEqual(outcomes);
      const settled = new Set(outcomes.map((o) => at(o, 'index')));
      const queued = list(WRITTEN, 'tasks', id).filter((t) => !settled.has(at(t, 'index')));
      expect(await jobs.readQueued(id, 0, 100)).toEqual(queued);
      // Nothing of version 3 exists yet for an old job.
      expect(await jobs.readLogs(id, 0, 10)).toEqual([]);
      expect(await jobs.seriesLabels(id, 10)).toEqual([]);
      expect(await jobs.readMessages(id, 0, 10)).toEqual([]);
    }
    expect(await jobs.readTries('job-open')).toEqual(
      new Map([
        [1, { attempts: 1, errorRetries: 0 }],
        [4, { attempts: 0, errorRetries: 2 }],
      ]),
    );
    // Old failures group with their numbers masked, like new ones.
    expect((await jobs.errorGroups('job-open', 10)).map((g) => [g.message, g.count])).toEqual([
      ['bad pixel #', 2],
    ]);
    expect(await keys.listKeys()).toEqual(at(WRITTEN, 'keys'));
    // Old records are found by name through the new index.
    expect((await jobs.latestJobByName('admin', 'squares'))?.id).toBe('job-open');
    expect((await jobs.latestJobByName('alice', 'squares'))?.id).toBe('job-cancelled');
    expect((await jobs.latestJobByName(undefined, 'squares'))?.id).toBe('job-cancelled');
    await jobs.close();
    await keys.close();
  });

  it('finds the latest job by name through the jobs_by_name index, not a scan', async () => {
    await new SqliteJobStore(dir.path).close();
    const plan = inspect((db) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${LATEST_BY_NAME_SQL}`)
        .all('admin', 'squares')
        .map((row) => String(at(row, 'detail'))),
    );
    expect(plan.join('\n')).toMatch(/USING INDEX jobs_by_name/);
  });

  it('goes on working: new feeds of an old job survive a reopen', async () => {
    const jobs = new SqliteJobStore(dir.path);
    const record = (await jobs.listJobs()).find((r) => r.id === 'job-open')!;
    const line = JSON.stringify({
      index: 1,
      level: 'info',
      message: 'hello',
      count: 2,
      workerId: 'w',
      at: 1,
    });
    await jobs.appendLogs('job-open', 1, [line]);
    await jobs.settle(
      'job-open',
      [{ seq: 5, index: 1, ok: true, payload: '4' }],
      [{ label: 'loss', lines: [seriesLine(5, 1, '[0.5]')] }],
    );
    await jobs.appendMessage('job-open', 1, 'm-1', '{"go":1}', 2);
    await jobs.addNote('admin', 3, 'phase 2', 100);
    await jobs.updateJob({ ...record, finished: 3, lastSeq: 5, logSeq: 1, messageSeq: 1 });
    await jobs.close();
    const reopened = new SqliteJobStore(dir.path);
    expect(await reopened.readLogs('job-open', 0, 10)).toMatchObject([{ seq: 1, count: 2 }]);
    expect(await reopened.readSeries('job-open', 'loss', 0, 10)).toEqual([
      { seq: 5, index: 1, values: '[0.5]' },
    ]);
    expect(await reopened.findMessage('job-open', 'm-1')).toBe(1);
    expect(await reopened.readNotes('admin', 0, 10)).toEqual([
      { owner: 'admin', at: 3, text: 'phase 2' },
    ]);
    expect((await reopened.readQueued('job-open', 0, 10)).map((t) => t.index)).toEqual([4]);
    expect((await reopened.listJobs()).find((r) => r.id === 'job-open')).toMatchObject({
      finished: 3,
      logSeq: 1,
      messageSeq: 1,
    });
    await reopened.close();
  });

  it('leaves a version 2 file as it was when migration 3 fails', () => {
    const db = new Database(path);
    db.prepare(
      "UPDATE jobs SET record = json_set(record, '$.state', 'sleeping') WHERE id = 'job-older'",
    ).run();
    db.close();
    const err = thrown(() => new SqliteJobStore(dir.path));
    expect(err).toMatchObject({
      code: ErrorCode.INTERNAL,
      message: expect.stringMatching(/row of jobs .*state.*Restore the data directory/),
    });
    expect(version()).toBe(2); // rolled back as a whole: the next open tries again
    expect(tables()).not.toContain('job_logs');
    expect(
      inspect((db) => db.prepare("SELECT record FROM jobs WHERE id = 'job-open'").pluck().get()),
    ).not.toMatch(/setupTimeoutMs/);
  });
});

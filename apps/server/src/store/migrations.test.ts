import Database from 'better-sqlite3';
import { copyFileSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDecoder } from '@tabgrid/protocol/codec';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { StoredJobRecordV0 } from '@tabgrid/protocol/stored';
import {
  SCHEMA_VERSION,
  completeJobRecord,
  completeJobRecordV2,
  completeJobRecordV3,
} from './migrations.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { SqliteKeyStore } from './sqlite-key-store.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';
import { at, byId, list, text, thrown } from './testing-fixture-values.js';

/** Written by release 0.1.0 (fixtures/make-v0.1.0-fixture.mjs), with what it wrote beside it. */
const FIXTURE = fileURLToPath(new URL('./fixtures/v0.1.0.sqlite', import.meta.url));
const WRITTEN: unknown = JSON.parse(
  readFileSync(new URL('./fixtures/v0.1.0.json', import.meta.url), 'utf8'),
);

const decodeV0 = createDecoder(StoredJobRecordV0, 'fixture job');

describe('schema versions and migrations', () => {
  const dir = tempDirPerTest('tabgrid-migrate-');
  let path: string;
  const version = (): unknown => {
    const db = new Database(path, { readonly: true });
    try {
      return db.pragma('user_version', { simple: true });
    } finally {
      db.close();
    }
  };
  const rawRecord = (id: string): unknown => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT record FROM jobs WHERE id = ?').pluck().get(id);
    } finally {
      db.close();
    }
  };
  const writeRaw = (sql: string, ...params: unknown[]): void => {
    const db = new Database(path);
    db.prepare(sql).run(...params);
    db.close();
  };

  beforeEach(() => {
    path = join(dir.path, 'tabgrid.sqlite');
    copyFileSync(FIXTURE, path); // never the committed file itself
  });

  it('opens a database written by 0.1.0, migrates it and reads everything back', async () => {
    expect(version()).toBe(0);
    const jobs = new SqliteJobStore(dir.path);
    const keys = new SqliteKeyStore(dir.path); // a second connection: finds the file migrated
    expect(version()).toBe(SCHEMA_VERSION);
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');

    const written = list(WRITTEN, 'jobs').map((j) => {
      const v0 = decodeV0(j);
      const program = text(at(WRITTEN, 'code', v0.id, 'program'));
      return completeJobRecordV3(completeJobRecordV2(completeJobRecord(v0)), program);
    });
    const records = await jobs.listJobs();
    expect(byId(records)).toEqual(byId(written));
    expect(new Set(records.map((r) => r.state))).toEqual(
      new Set(['open', 'closed', 'done', 'cancelled']),
    );
    // What 0.1.0 showed for fields its older records lacked is what they now hold.
    expect(records.find((r) => r.id === 'job-legacy')).toMatchObject({
      group: null,
      retryErrors: 0,
      redundancy: 1,
      maxReplicas: 1,
      disagreements: 0,
      computeMs: 0,
      paused: null,
      crashedTasks: 0,
    });
    expect(records.find((r) => r.id === 'job-paused')).toMatchObject({
      paused: expect.stringMatching(/^Paused: 3 tasks/),
      crashedTasks: 3,
      redundancy: 3,
      maxReplicas: 5,
      disagreements: 1,
    });
    expect(records.find((r) => r.id === 'job-open')).toMatchObject({
      paused: null,
      crashedTasks: 0,
    });

    for (const { id } of written) {
      expect(await jobs.getJobCode(id)).toEqual(at(WRITTEN, 'code', id));
      const outcomes = list(WRITTEN, 'outcomes', id);
      expect(await jobs.readOutcomes(id, 0, 'all', 100)).toEqual(outcomes);
      const settled = new Set(outcomes.map((o) => at(o, 'index')));
      const queued = list(WRITTEN, 'tasks', id).filter((t) => !settled.has(at(t, 'index')));
      expect(await jobs.readQueued(id, 0, 100)).toEqual(queued);
      for (const batch of list(WRITTEN, 'batches', id)) {
        expect(await jobs.findBatch(id, text(at(batch, 'batchId')))).toEqual({
          firstIndex: at(batch, 'firstIndex'),
          count: at(batch, 'count'),
        });
      }
    }
    expect(await jobs.readTries('job-open')).toEqual(
      new Map([
        [1, { attempts: 1, errorRetries: 0 }],
        [4, { attempts: 0, errorRetries: 2 }],
      ]),
    );
    expect((await jobs.readOutcomes('job-open', 0, 'errors', 10)).map((o) => o.index)).toEqual([2]);
    expect((await jobs.latestResults('job-done', 10)).map((o) => o.seq)).toEqual([2, 1]);
    expect(await jobs.errorGroups('job-cancelled', 10)).toEqual([
      {
        message: 'The job was cancelled.',
        count: 2,
        example: {
          seq: 2,
          index: 1,
          ok: false,
          payload: at(WRITTEN, 'outcomes', 'job-cancelled', 1, 'payload'),
        },
      },
    ]);
    expect(await keys.listKeys()).toEqual(at(WRITTEN, 'keys'));

    // And it goes on working: a new outcome and record survive a reopen.
    await jobs.settle('job-open', [{ seq: 4, index: 1, ok: true, payload: '4' }]);
    await jobs.updateJob({ ...records.find((r) => r.id === 'job-open')!, finished: 3, lastSeq: 4 });
    await jobs.close();
    await keys.close();
    const reopened = new SqliteJobStore(dir.path);
    expect((await reopened.readQueued('job-open', 0, 10)).map((t) => t.index)).toEqual([4]);
    expect((await reopened.listJobs()).find((r) => r.id === 'job-open')?.finished).toBe(3);
    await reopened.close();
  });

  it('runs each migration once: a migrated file is not migrated again', async () => {
    await new SqliteJobStore(dir.path).close();
    const migrated = rawRecord('job-legacy');
    // Were the record-completing migration run again, it would complete this one.
    writeRaw("UPDATE jobs SET record = json_remove(record, '$.paused') WHERE id = 'job-legacy'");
    const store = new SqliteJobStore(dir.path);
    expect(version()).toBe(SCHEMA_VERSION);
    const err = thrown(() => store.listJobs());
    expect(err).toBeInstanceOf(TabgridError);
    expect(err).toMatchObject({
      code: ErrorCode.INTERNAL,
      message: expect.stringMatching(/row of jobs .*paused.*Restore the data directory/),
    });
    await store.close();
    expect(migrated).toMatch(/"paused":null/);
    expect(rawRecord('job-legacy')).not.toMatch(/"paused"/);
  });

  it('refuses a database a newer release wrote, and leaves it as it was', () => {
    writeRaw(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    for (const open of [() => new SqliteJobStore(dir.path), () => new SqliteKeyStore(dir.path)]) {
      const err = thrown(open);
      expect(err).toBeInstanceOf(TabgridError);
      expect(err).toMatchObject({
        code: ErrorCode.INTERNAL,
        message: expect.stringMatching(
          new RegExp(`schema version ${SCHEMA_VERSION + 1}.*newer Tabgrid.*TABGRID_DATA_DIR`),
        ),
      });
    }
    expect(version()).toBe(SCHEMA_VERSION + 1);
    expect(rawRecord('job-legacy')).not.toMatch(/paused/); // not migrated
  });

  it('leaves the file as it was when a migration fails', () => {
    writeRaw(
      `UPDATE jobs SET record = json_set(record, '$.state', 'sleeping') WHERE id = 'job-done'`,
    );
    const before = rawRecord('job-legacy');
    const err = thrown(() => new SqliteJobStore(dir.path));
    expect(err).toMatchObject({
      code: ErrorCode.INTERNAL,
      message: expect.stringMatching(/row of jobs .*state/),
    });
    expect(version()).toBe(0); // rolled back as a whole: the next open tries again
    expect(rawRecord('job-legacy')).toBe(before);
  });

  it('starts a new data directory at the current version', async () => {
    rmSync(path);
    const store = new SqliteJobStore(dir.path);
    expect(version()).toBe(SCHEMA_VERSION);
    expect(await store.listJobs()).toEqual([]);
    await store.close();
  });
});

import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDecoder } from '@tabgrid/protocol/codec';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { StoredJobRecordV3 } from '@tabgrid/protocol/stored';
import { SCHEMA_VERSION, completeJobRecordV3 } from './migrations.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';

/** Written by the store at schema version 3 (fixtures/make-v3-fixture.mjs), with what it wrote beside it. */
const FIXTURE = fileURLToPath(new URL('./fixtures/v3.sqlite', import.meta.url));
const WRITTEN: unknown = JSON.parse(
  readFileSync(new URL('./fixtures/v3.json', import.meta.url), 'utf8'),
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
function text(value: unknown): string {
  if (typeof value !== 'string') throw new Error('fixture: expected text');
  return value;
}
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const decodeV3 = createDecoder(StoredJobRecordV3, 'fixture job');
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const byId = <T extends { id: string }>(items: T[]): T[] =>
  [...items].sort((a, b) => a.id.localeCompare(b.id));

describe('migration 3 → 4', () => {
  const dir = tempDirPerTest('tabgrid-migrate-v3-');
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
  const columns = (table: string) =>
    inspect((db) =>
      db
        .prepare(`SELECT name FROM pragma_table_info('${table}')`)
        .pluck()
        .all()
        .map((name) => String(name)),
    );

  beforeEach(() => {
    path = join(dir.path, 'tabgrid.sqlite');
    copyFileSync(FIXTURE, path); // never the committed file itself
  });

  it('opens a version 3 file, gives its records their program hash and reads everything back', async () => {
    expect(version()).toBe(3);
    expect(columns('outcome_batches')).not.toContain('provenance');
    const jobs = new SqliteJobStore(dir.path);
    expect(version()).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(4);
    expect(columns('task_batches')).toContain('submitted_at');
    expect(columns('outcome_batches')).toContain('provenance');
    expect(columns('outcome_errors')).toContain('provenance');

    const written = list(WRITTEN, 'jobs').map((j) => {
      const v3 = decodeV3(j);
      return completeJobRecordV3(v3, text(at(WRITTEN, 'code', v3.id, 'program')));
    });
    const records = await jobs.listJobs();
    expect(byId(records)).toEqual(byId(written));
    // The hash is the program text's SHA-256, computed from the stored program.
    expect(records.find((r) => r.id === 'job-open')).toMatchObject({
      programHash: sha256('function Run(d, a) { return d * a.k }'),
      maxFailures: null,
      cancelReason: null,
      setupTimeoutMs: 5000,
      logSeq: 1,
    });
    expect(records.find((r) => r.id === 'job-cancelled')?.programHash).toBe(
      sha256('function Run(d) { return d * d * d }'),
    );

    for (const { id } of written) {
      expect(await jobs.getJobCode(id)).toEqual(at(WRITTEN, 'code', id));
      const outcomes = list(WRITTEN, 'outcomes', id);
      expect(await jobs.readOutcomes(id, 0, 'all', 100)).toEqual(outcomes);
      // Outcomes stored before version 4 have no provenance: none is made up for them.
      const withProvenance = await jobs.readOutcomes(id, 0, 'all', 100, { provenance: true });
      expect(withProvenance).toEqual(outcomes);
      expect(withProvenance.some((o) => 'provenance' in o)).toBe(false);
      const errors = await jobs.readOutcomes(id, 0, 'errors', 100, { provenance: true });
      expect(errors.map((o) => o.provenance)).toEqual(errors.map(() => undefined));
      const settled = new Set(outcomes.map((o) => at(o, 'index')));
      const queued = list(WRITTEN, 'tasks', id).filter((t) => !settled.has(at(t, 'index')));
      // Nor a submission time for their tasks (their queued time is unknown, not guessed).
      expect(await jobs.readQueued(id, 0, 100)).toStrictEqual(queued);
    }
    expect(await jobs.readLogs('job-open', 0, 10)).toMatchObject(list(WRITTEN, 'logs', 'job-open'));
    await jobs.close();
  });

  it('goes on working: new tasks and outcomes of an old job keep their provenance across a reopen', async () => {
    const jobs = new SqliteJobStore(dir.path);
    await jobs.appendTasks('job-open', 'batch-new', 5, ['7', '8'], 1764547500000);
    const provenance = { workerId: 'w-9', attempt: 2, runMs: 3.5, queuedMs: 120 };
    await jobs.settle('job-open', [
      { seq: 4, index: 1, ok: true, payload: '4', provenance },
      {
        seq: 5,
        index: 5,
        ok: false,
        payload: JSON.stringify({ name: 'E', message: 'm', stack: '', type: 'program' }),
        provenance: { workerId: null, attempt: 0, runMs: null, queuedMs: null },
      },
    ]);
    await jobs.close();
    const reopened = new SqliteJobStore(dir.path);
    expect(await reopened.readQueued('job-open', 0, 10)).toStrictEqual([
      { index: 4, input: '"text, with a comma"' },
      { index: 6, input: '8', submittedAt: 1764547500000 },
    ]);
    const all = await reopened.readOutcomes('job-open', 3, 'all', 10, { provenance: true });
    expect(all.map((o) => [o.seq, o.provenance])).toEqual([
      [4, provenance],
      [5, { workerId: null, attempt: 0, runMs: null, queuedMs: null }],
    ]);
    // A row of old outcomes and a row of new ones, read in one pass.
    const fromStart = await reopened.readOutcomes('job-open', 0, 'results', 10, {
      provenance: true,
    });
    expect(fromStart.map((o) => [o.seq, o.provenance?.workerId])).toEqual([
      [1, undefined],
      [3, undefined],
      [4, 'w-9'],
    ]);
    const errors = await reopened.readOutcomes('job-open', 0, 'errors', 10, { provenance: true });
    expect(errors.map((o) => [o.seq, o.provenance?.attempt])).toEqual([
      [2, undefined],
      [5, 0],
    ]);
    // Plain reads carry none.
    expect((await reopened.readOutcomes('job-open', 3, 'all', 10))[0]).toEqual({
      seq: 4,
      index: 1,
      ok: true,
      payload: '4',
    });
    await reopened.close();
  });

  it('leaves a version 3 file as it was when migration 4 fails', () => {
    const db = new Database(path);
    db.prepare(
      "UPDATE jobs SET record = json_set(record, '$.state', 'sleeping') WHERE id = 'job-cancelled'",
    ).run();
    db.close();
    const err = thrown(() => new SqliteJobStore(dir.path));
    expect(err).toMatchObject({
      code: ErrorCode.INTERNAL,
      message: expect.stringMatching(/row of jobs .*state.*Restore the data directory/),
    });
    expect(version()).toBe(3); // rolled back as a whole: the next open tries again
    expect(columns('outcome_batches')).not.toContain('provenance');
    expect(
      inspect((db) => db.prepare("SELECT record FROM jobs WHERE id = 'job-open'").pluck().get()),
    ).not.toMatch(/programHash/);
  });
});

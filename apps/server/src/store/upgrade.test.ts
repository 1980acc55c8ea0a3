/**
 * The upgrade test: a database written by each earlier release (schema versions 2, 3 and 4, files
 * left on disk by that release's own store; fixtures/make-v*-fixture.mjs) is opened by this one,
 * migrated forward to SCHEMA_VERSION, and reads back everything that release wrote, then goes on
 * working. One table, one set of checks: a new schema version adds a row (its fixture written by
 * the release before it), not a test file. Release 0.1.0's file (no version) is migrations.test.ts's.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDecoder } from '@tabgrid/protocol/codec';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { decodeBinaryFrame } from '@tabgrid/protocol/binary-frame';
import { fromSocketForm, toTextForm } from '@tabgrid/protocol/bytes';
import { frameOf, packValue } from '@tabgrid/protocol/packed-value';
import {
  StoredJobRecord,
  StoredJobRecordV2,
  StoredJobRecordV3,
  storedValue,
} from '@tabgrid/protocol/stored';
import type { JobRecord } from './job-store.js';
import { seriesLine } from './job-store.js';
import { SCHEMA_VERSION, completeJobRecordV2, completeJobRecordV3 } from './migrations.js';
import { LATEST_BY_NAME_SQL } from './sqlite-feed-statements.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { SqliteKeyStore } from './sqlite-key-store.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';
import { at, byId, list, text, thrown } from './testing-fixture-values.js';

/** A list the fixture may not have (an older release wrote no such thing): empty then. */
function optionalList(value: unknown, ...path: (string | number)[]): unknown[] {
  try {
    return list(value, ...path);
  } catch {
    return [];
  }
}
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

const decodeV2 = createDecoder(StoredJobRecordV2, 'fixture job');
const decodeV3 = createDecoder(StoredJobRecordV3, 'fixture job');
const decodeV4 = createDecoder(StoredJobRecord, 'fixture job');

interface Opened {
  jobs: SqliteJobStore;
  keys: SqliteKeyStore;
  written: unknown;
  /** Reads the file through a connection of its own. */
  inspect: <T>(read: (db: Database.Database) => T) => T;
}

interface Fixture {
  version: number;
  /** What this release shows for a record the fixture's release wrote (`program`: the job's). */
  expected: (record: unknown, program: string) => JobRecord;
  /** A job whose record, made undecodable, must fail the next migration (none: it decodes none). */
  corrupt?: string;
  /** What only this version's file holds, checked after the common reads. */
  extra: (opened: Opened) => Promise<void> | void;
  /**
   * Rows written into the copied file before this release opens it, as that release's own
   * store writes them (for what its fixture script did not write).
   */
  before?: (db: Database.Database) => void;
}

/** A typed array's text form, as every release before schema 5 stored it (base64 in JSON text). */
const OLD_BYTES = { m: new Float32Array([1.5, -2, 1e-3]), raw: new Uint8Array([0, 255, 7]) };
const OLD_TEXT = JSON.stringify(toTextForm(OLD_BYTES));

const FIXTURES: Fixture[] = [
  {
    version: 2,
    expected: (r, program) => completeJobRecordV3(completeJobRecordV2(decodeV2(r)), program),
    corrupt: 'job-older',
    extra: async ({ jobs, keys, written, inspect }) => {
      // A job from before version 3 shows what a job that used none of it shows.
      const records = await jobs.listJobs();
      expect(records.find((r) => r.id === 'job-open')).toMatchObject({
        timeoutMs: 30000,
        setupTimeoutMs: 30000, // its Setup is bounded by its timeout, as a new job's is by default
        progressTimeoutMs: null,
        setups: { count: 0, totalMs: 0, maxMs: 0 },
        logSeq: 0,
        messageSeq: 0,
        peakHeapBytes: null,
        paused: null,
        retryErrors: 2,
      });
      expect(records.find((r) => r.id === 'job-paused')).toMatchObject({
        paused: expect.stringMatching(/^Paused: 3 tasks/),
        setupTimeoutMs: 60000,
      });
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
      expect(await keys.listKeys()).toEqual(at(written, 'keys'));
      // Old records are found by name, through the jobs_by_name index (not a scan).
      expect((await jobs.latestJobByName('admin', 'squares'))?.id).toBe('job-open');
      expect((await jobs.latestJobByName('alice', 'squares'))?.id).toBe('job-cancelled');
      expect((await jobs.latestJobByName(undefined, 'squares'))?.id).toBe('job-cancelled');
      const plan = inspect((db) =>
        db
          .prepare(`EXPLAIN QUERY PLAN ${LATEST_BY_NAME_SQL}`)
          .all('admin', 'squares')
          .map((row) => String(at(row, 'detail'))),
      );
      expect(plan.join('\n')).toMatch(/USING INDEX jobs_by_name/);
    },
  },
  {
    version: 3,
    expected: (r, program) => completeJobRecordV3(decodeV3(r), program),
    corrupt: 'job-cancelled',
    extra: async ({ jobs }) => {
      const records = await jobs.listJobs();
      // Version 4 gives each record its program's SHA-256, computed from the stored program.
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
    },
  },
  {
    version: 4,
    expected: (r) => decodeV4(r),
    // Typed arrays as a version-4 server stored them (job-bytes: rows only, no record): base64
    // tags in the text of a task batch row (no input_bytes column yet) and of an outcome line.
    // Schema 5 adds the BLOB columns and rewrites nothing: these must read as before, and go to
    // a worker as bytes.
    before: (db) => {
      db.prepare(
        'INSERT INTO task_batches (job_id, first_index, count, batch_id, inputs, submitted_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).run('job-bytes', 100, 2, 'batch-bytes', `${OLD_TEXT}\n"after"`, 1764547500000);
      db.prepare('INSERT INTO outcome_batches (job_id, first_seq, lines) VALUES (?, ?, ?)').run(
        'job-bytes',
        50,
        `50,100,1,${OLD_TEXT}`,
      );
    },
    extra: async ({ jobs, written, inspect }) => {
      const old = await jobs.readQueued('job-bytes', 101, 10);
      expect(old).toEqual([{ index: 101, input: '"after"', submittedAt: 1764547500000 }]);
      const task = await jobs.readTask('job-bytes', 100);
      expect(task?.input).toBe(OLD_TEXT);
      // The old text goes to a worker as a binary frame of the same bytes.
      // (frameOf lays a frame as core/frames.ts's tasksFrames does: the store may not import it.)
      const frame = frameOf([task!.input], ([input]) => `{"items":[{"input":${input}}]}`);
      expect(frame).toBeInstanceOf(Uint8Array);
      const items = (decodeBinaryFrame(frame as Uint8Array) as { items: { input: unknown }[] })
        .items;
      expect(fromSocketForm(items[0]!.input)).toEqual(OLD_BYTES);
      const [outcome] = await jobs.readOutcomes('job-bytes', 49, 'all', 10);
      expect(outcome).toEqual({ seq: 50, index: 100, ok: true, payload: OLD_TEXT });
      expect(fromSocketForm(storedValue(outcome!.payload))).toEqual(OLD_BYTES);
      // New values holding typed arrays go to the BLOB columns, raw.
      const packed = packValue(OLD_BYTES) as Uint8Array;
      await jobs.appendTasks('job-bytes', 'batch-new-bytes', 200, [packed, '1'], 7);
      await jobs.settle('job-bytes', [{ seq: 60, index: 200, ok: true, payload: packed }]);
      const stored = (await jobs.readTask('job-bytes', 200))!.input as Uint8Array;
      expect(new Uint8Array(stored)).toEqual(packed);
      const [fresh] = await jobs.readOutcomes('job-bytes', 59, 'all', 10);
      expect(new Uint8Array(fresh!.payload as Uint8Array)).toEqual(packed);
      const rows = inspect((db) => ({
        tasks: db
          .prepare(
            "SELECT inputs, typeof(input_bytes) AS t FROM task_batches WHERE batch_id = 'batch-new-bytes'",
          )
          .get(),
        outcomes: db
          .prepare(
            'SELECT lines, typeof(payload_bytes) AS t FROM outcome_batches WHERE first_seq = 60',
          )
          .get(),
      }));
      expect(rows).toEqual({
        tasks: { inputs: '*\n1', t: 'blob' },
        outcomes: { lines: '60,200,1,*', t: 'blob' },
      });

      const records = await jobs.listJobs();
      expect(records.find((r) => r.id === 'job-cancelled')).toMatchObject({
        cancelReason: 'its first 2 tasks failed alike',
      });
      expect(records.find((r) => r.id === 'job-open')).toMatchObject({ maxFailures: 10 });
      expect(await jobs.readNotes('admin', 0, 10)).toEqual(list(written, 'notes'));
    },
  },
];

describe.each(FIXTURES)('upgrade from a schema version $version database', (fixture) => {
  const FILE = fileURLToPath(new URL(`./fixtures/v${fixture.version}.sqlite`, import.meta.url));
  const WRITTEN: unknown = JSON.parse(
    readFileSync(new URL(`./fixtures/v${fixture.version}.json`, import.meta.url), 'utf8'),
  );
  const dir = tempDirPerTest(`tabgrid-upgrade-v${fixture.version}-`);
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
  const expectedRecords = () =>
    list(WRITTEN, 'jobs').map((j) =>
      fixture.expected(j, text(at(WRITTEN, 'code', text(at(j, 'id')), 'program'))),
    );

  beforeEach(() => {
    path = join(dir.path, 'tabgrid.sqlite');
    copyFileSync(FILE, path); // never the committed file itself
    if (fixture.before) {
      const db = new Database(path);
      fixture.before(db);
      db.close();
    }
  });

  it('migrates it to the current version and reads back everything that release wrote', async () => {
    expect(version()).toBe(fixture.version);
    const jobs = new SqliteJobStore(dir.path);
    const keys = new SqliteKeyStore(dir.path);
    expect(version()).toBe(SCHEMA_VERSION);
    const written = expectedRecords();
    expect(byId(await jobs.listJobs())).toEqual(byId(written));
    for (const { id } of written) {
      expect(await jobs.getJobCode(id)).toEqual(at(WRITTEN, 'code', id));
      const outcomes = list(WRITTEN, 'outcomes', id);
      expect(await jobs.readOutcomes(id, 0, 'all', 100)).toEqual(outcomes);
      // Provenance exactly as written: none for outcomes stored before version 4.
      const provenance = optionalList(WRITTEN, 'provenance', id);
      const withProvenance = await jobs.readOutcomes(id, 0, 'all', 100, { provenance: true });
      expect(withProvenance.map((o) => o.provenance)).toEqual(
        outcomes.map((_, i) => provenance[i]),
      );
      const settled = new Set(outcomes.map((o) => at(o, 'index')));
      const queued = list(WRITTEN, 'tasks', id).filter((t) => !settled.has(at(t, 'index')));
      // A submission time only where that release stored one (never guessed).
      expect(await jobs.readQueued(id, 0, 100)).toStrictEqual(queued);
      expect(await jobs.readLogs(id, 0, 10)).toMatchObject(optionalList(WRITTEN, 'logs', id));
      expect(await jobs.readEvents(id, 0, 10)).toMatchObject(optionalList(WRITTEN, 'events', id));
      const series = optionalList(WRITTEN, 'series', id);
      expect(await jobs.readSeries(id, 'loss', 0, 10)).toEqual(series);
      expect(await jobs.seriesLabels(id, 10)).toEqual(series.length > 0 ? ['loss'] : []);
      expect((await jobs.readMessages(id, 0, 10)).map((m) => [m.seq, m.messageId])).toEqual(
        optionalList(WRITTEN, 'messages', id).map((m) => [at(m, 'seq'), at(m, 'messageId')]),
      );
    }
    await fixture.extra({ jobs, keys, written: WRITTEN, inspect });
    await jobs.close();
    await keys.close();
  });

  it('goes on working: new tasks, outcomes, logs and messages of an old job survive a reopen', async () => {
    const tasks = list(WRITTEN, 'tasks', 'job-open');
    const outcomes = list(WRITTEN, 'outcomes', 'job-open');
    const settled = new Set(outcomes.map((o) => at(o, 'index')));
    const firstQueued = Number(
      at(
        tasks.find((t) => !settled.has(at(t, 'index'))),
        'index',
      ),
    );
    const lastSeq = Math.max(...outcomes.map((o) => Number(at(o, 'seq'))));
    const next = tasks.length;
    const logs = optionalList(WRITTEN, 'logs', 'job-open').length;
    const messages = optionalList(WRITTEN, 'messages', 'job-open').length;

    const jobs = new SqliteJobStore(dir.path);
    await jobs.appendTasks('job-open', 'batch-new', next, ['7', '8'], 1764547500000);
    const provenance = { workerId: 'w-9', attempt: 2, runMs: 3.5, queuedMs: 120 };
    await jobs.settle(
      'job-open',
      [{ seq: lastSeq + 1, index: firstQueued, ok: true, payload: '4', provenance }],
      [{ label: 'gain', lines: [seriesLine(lastSeq + 1, firstQueued, '[0.5]')] }],
    );
    await jobs.appendLogs('job-open', logs + 1, [
      JSON.stringify({ index: 1, level: 'info', message: 'again', count: 1, workerId: 'w', at: 1 }),
    ]);
    await jobs.appendMessage('job-open', messages + 1, 'm-new', '{"go":1}', 2);
    await jobs.close();

    const reopened = new SqliteJobStore(dir.path);
    const queued = await reopened.readQueued('job-open', next, 10);
    expect(queued).toStrictEqual([
      { index: next, input: '7', submittedAt: 1764547500000 },
      { index: next + 1, input: '8', submittedAt: 1764547500000 },
    ]);
    expect(
      (await reopened.readQueued('job-open', 0, 100)).some((t) => t.index === firstQueued),
    ).toBe(false);
    const fresh = await reopened.readOutcomes('job-open', lastSeq, 'all', 10, { provenance: true });
    expect(fresh).toEqual([
      { seq: lastSeq + 1, index: firstQueued, ok: true, payload: '4', provenance },
    ]);
    expect(await reopened.readSeries('job-open', 'gain', 0, 10)).toEqual([
      { seq: lastSeq + 1, index: firstQueued, values: '[0.5]' },
    ]);
    expect((await reopened.readLogs('job-open', logs, 10)).map((l) => l.message)).toEqual([
      'again',
    ]);
    expect(await reopened.findMessage('job-open', 'm-new')).toBe(messages + 1);
    await reopened.close();
  });

  it.skipIf(fixture.corrupt === undefined)(
    'leaves the file at its version when the migration fails (the next open tries again)',
    () => {
      const db = new Database(path);
      db.prepare(
        "UPDATE jobs SET record = json_set(record, '$.state', 'sleeping') WHERE id = ?",
      ).run(fixture.corrupt);
      db.close();
      const err = thrown(() => new SqliteJobStore(dir.path));
      expect(err).toMatchObject({
        code: ErrorCode.INTERNAL,
        message: expect.stringMatching(/row of jobs .*state.*Restore the data directory/),
      });
      expect(version()).toBe(fixture.version); // rolled back as a whole
    },
  );
});

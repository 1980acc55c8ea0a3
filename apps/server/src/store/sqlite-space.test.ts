import Database from 'better-sqlite3';
import { copyFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';
import { until } from '../testing/until.js';
import { jobRecord } from './job-store.conformance.js';
import { SqliteJobStore } from './sqlite-job-store.js';

/** Folds the WAL into the database file, from a connection of its own. */
function checkpoint(dir: string): void {
  const db = new Database(join(dir, 'tabgrid.sqlite'));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** Bytes of every file in the data directory (the database, its WAL and shared memory). */
function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/** `jobs` jobs of `tasks` tasks of ~1 KB each, every task settled with a ~1 KB result. */
async function fill(store: SqliteJobStore, jobs: number, tasks: number): Promise<string[]> {
  const ids: string[] = [];
  const input = JSON.stringify('x'.repeat(1000));
  for (let j = 0; j < jobs; j++) {
    const record = jobRecord(`job-${j}`);
    await store.createJob(record, { program: 'function Run(d) { return d }', argsJson: '{}' });
    await store.appendTasks(record.id, 'b', 0, Array<string>(tasks).fill(input), 1);
    await store.settle(
      record.id,
      Array.from({ length: tasks }, (_, i) => ({ seq: i + 1, index: i, ok: true, payload: input })),
    );
    ids.push(record.id);
  }
  return ids;
}

describe('space given back after deletes', () => {
  const dir = tempDirPerTest('tabgrid-space-');

  it('shrinks the data directory once jobs are deleted (reclaimSpace)', async () => {
    const store = new SqliteJobStore(dir.path);
    const ids = await fill(store, 10, 500); // ~10 MB
    checkpoint(dir.path);
    const full = dirBytes(dir.path);
    expect(full).toBeGreaterThan(8_000_000);
    await Promise.all(ids.slice(1).map((id) => store.deleteJob(id)));
    const freed = await store.reclaimSpace();
    expect(freed).toBeGreaterThan(6_000_000);
    expect(dirBytes(dir.path)).toBeLessThan(full / 4);
    // What was kept is still all there.
    expect(await store.readOutcomes('job-0', 0, 'all', 1000)).toHaveLength(500);
    await store.close();
  }, 30_000);

  it('gives the space back by itself shortly after a deletion', async () => {
    const store = new SqliteJobStore(dir.path);
    const [id] = await fill(store, 1, 2000);
    checkpoint(dir.path);
    const full = dirBytes(dir.path);
    await store.deleteJob(id!);
    await until(() => dirBytes(dir.path) < full / 4, { timeoutMs: 20_000 });
    await store.close();
  }, 30_000);

  it('converts a file written before (auto_vacuum off) once, and keeps its data', async () => {
    const path = join(dir.path, 'tabgrid.sqlite');
    copyFileSync(fileURLToPath(new URL('./fixtures/v3.sqlite', import.meta.url)), path);
    const mode = () => {
      const db = new Database(path, { readonly: true });
      try {
        return db.pragma('auto_vacuum', { simple: true });
      } finally {
        db.close();
      }
    };
    expect(mode()).toBe(0);
    const store = new SqliteJobStore(dir.path);
    expect(mode()).toBe(2); // INCREMENTAL
    expect((await store.listJobs()).map((r) => r.id).sort()).toEqual(['job-cancelled', 'job-open']);
    await store.close();
  });
});

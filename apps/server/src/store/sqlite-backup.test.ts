/**
 * The online backup (`tabgrid-server backup FILE`, a process of its own) taken while a job runs
 * on the server: the copy opens with the store and holds the job as it was at one commit.
 */
import { carriedText } from '@tabgrid/protocol/packed-value';
import { spawn } from 'node:child_process';
import { copyFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { TaskOutcome } from '@tabgrid/sdk';
import { NodeWorker } from '../testing/node-worker.js';
import { serverMainPath } from '../testing/server-process.js';
import { tempDir, type TempDir } from '../testing/temp-dir.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { until } from '../testing/until.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { backupDatabase } from './sqlite-backup.js';

let site: TestServer | undefined;
let out: TempDir | undefined;
afterEach(async () => {
  await site?.close();
  out?.remove();
  site = undefined;
  out = undefined;
});

function backupCommand(
  dataDir: string,
  file: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [serverMainPath(), 'backup', file], {
      env: { ...process.env, TABGRID_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

it('a backup taken while a job runs opens and holds it, consistent at one commit', async () => {
  site = await startTestServer({ dirPrefix: 'tabgrid-backup-' });
  out = tempDir('tabgrid-backup-out-');
  const worker = site.adopt(new NodeWorker(site.wsUrl, { credit: 20 }));
  await worker.opened;
  worker.hello();
  const job = await site.tg.createJob({
    name: 'doubles',
    program: 'function Run(d) { return d * 2 }',
  });
  let backupDone = false;
  let sent = 0;
  // Tasks keep coming until the backup has finished: it is taken while the job runs.
  async function* tasks() {
    while (!backupDone || sent < 500) {
      for (let i = 0; i < 50; i++) yield sent++;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const outcomes: TaskOutcome[] = [];
  const consuming = (async () => {
    for await (const o of job.run(tasks())) outcomes.push(o);
  })();
  await until(() => outcomes.length >= 200, { timeoutMs: 20_000 });
  const file = join(out.path, 'tabgrid-backup.sqlite');
  const backup = await backupCommand(site.dataDir, file);
  backupDone = true;
  expect(backup.code).toBe(0);
  expect(backup.output).toMatch(
    /^backup: .*tabgrid-backup\.sqlite \([\d.]+ MB, 1 jobs, schema version \d+\)\n$/,
  );
  expect(statSync(file).mode & 0o777).toBe(0o600);
  await consuming;
  expect(outcomes.length).toBe(sent);

  // The copy is a data directory's database: the store opens it and reads everything back.
  const restored = tempDir('tabgrid-restored-');
  try {
    copyFileSync(file, join(restored.path, 'tabgrid.sqlite'));
    const store = new SqliteJobStore(restored.path);
    const [record] = await store.listJobs();
    expect(record).toMatchObject({ id: job.id, name: 'doubles' });
    const saved = await store.readOutcomes(job.id, 0, 'all', 1_000_000);
    // Taken mid-job: some outcomes, fewer than in the end, each exactly once and right.
    expect(saved.length).toBeGreaterThanOrEqual(200);
    expect(saved.length).toBeLessThan(sent);
    expect(new Set(saved.map((o) => o.index)).size).toBe(saved.length);
    for (const o of saved) expect(JSON.parse(carriedText(o.payload))).toBe(o.index * 2);
    // The record and the outcomes are of the same commit.
    expect(record!.finished + record!.failed).toBe(saved.length);
    expect(record!.lastSeq).toBe(saved.at(-1)!.seq);
    expect(record!.total).toBeGreaterThanOrEqual(saved.length);
    await store.close();
  } finally {
    restored.remove();
  }
}, 60_000);

it('never overwrites a file, and says so', async () => {
  out = tempDir('tabgrid-backup-out-');
  const data = tempDir('tabgrid-backup-data-');
  try {
    await new SqliteJobStore(data.path).close();
    const file = join(out.path, 'exists.sqlite');
    writeFileSync(file, 'precious');
    expect(() => backupDatabase(data.path, file)).toThrow(
      /exists already: a backup never overwrites/,
    );
    const missing = await backupCommand(join(out.path, 'nowhere'), join(out.path, 'b.sqlite'));
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/^tabgrid-server backup: No database at .*set TABGRID_DATA_DIR/);
  } finally {
    data.remove();
  }
}, 20_000);

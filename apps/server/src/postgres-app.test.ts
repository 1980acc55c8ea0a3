/**
 * The whole server on PostgreSQL (TABGRID_DATABASE_URL): a job runs end to end through the real
 * core, worker socket and SDK on PgJobStore and PgKeyStore, and a server started again on the
 * same database finds it; an unreachable database fails the start, saying what to do.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { TaskOutcome } from '@tabgrid/sdk';
import { buildApp } from './app.js';
import { PgJobStore } from './store/postgres/pg-job-store.js';
import { PgKeyStore } from './store/postgres/pg-key-store.js';
import { describeWithPostgres, schemaPerDirectory } from './store/postgres/pg-test-database.js';
import { assertExactlyOnce } from './testing/exactly-once.js';
import { NodeWorker } from './testing/node-worker.js';
import { tempDir } from './testing/temp-dir.js';
import { ADMIN_TOKEN, startTestServer } from './testing/test-server.js';

describeWithPostgres('the server on PostgreSQL', (url) => {
  const options = schemaPerDirectory(url);

  it('runs a job end to end, and a server started again on the database finds it done', async () => {
    const database = options(`postgres-app-${randomUUID()}`); // a schema of its own
    const open = async () =>
      startTestServer({
        store: await PgJobStore.open(database),
        keyStore: await PgKeyStore.open(database),
      });
    const first = await open();
    let outcomes: TaskOutcome[] = [];
    let jobId = '';
    try {
      const worker = first.adopt(new NodeWorker(first.wsUrl, { credit: 100 }));
      await worker.opened;
      worker.hello();
      const key = await first.tg.keys.create({ name: 'alice', role: 'client' });
      expect(key.secret).toEqual(expect.any(String));
      const job = await first.tg.createJob({ program: 'function Run(d) { return d * 2 }' });
      jobId = job.id;
      const total = 20_000;
      outcomes = [];
      for await (const out of job.run(Array.from({ length: total }, (_, i) => i))) {
        outcomes.push(out);
      }
      assertExactlyOnce(total, outcomes, { expected: (i) => i * 2 });
      expect(await job.status()).toMatchObject({ state: 'done', total, finished: total });
    } finally {
      await first.close();
    }
    const second = await open();
    try {
      const [listed] = await second.tg.jobs();
      expect(listed).toMatchObject({ id: jobId, state: 'done', finished: 20_000 });
      expect((await second.tg.keys.list()).map((k) => k.name)).toContain('alice');
    } finally {
      await second.close();
    }
  }, 60_000);
});

it('refuses to start on a PostgreSQL it cannot reach, saying what to do and hiding the password', async () => {
  const dir = tempDir('tabgrid-pg-unreachable-');
  try {
    const start = buildApp({
      dataDir: dir.path,
      adminToken: ADMIN_TOKEN,
      databaseUrl: 'postgresql://tabgrid:hunter2-secret@127.0.0.1:1/tabgrid',
    });
    await expect(start).rejects.toThrow(
      /Cannot open the PostgreSQL database postgresql:\/\/tabgrid:\*\*\*@127\.0\.0\.1:1\/tabgrid .*TABGRID_DATABASE_URL/,
    );
    await expect(start).rejects.not.toThrow(/hunter2/);
  } finally {
    dir.remove();
  }
});

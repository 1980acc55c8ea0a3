/**
 * PostgreSQL schema version 2 → 3 (raw bytes, issue 18): a database whose typed arrays a
 * version-2 server stored as base64 text reads them back the same after the upgrade, a worker
 * gets them as bytes, and new values holding typed arrays go to the bytea columns raw.
 */
import pg from 'pg';
import { expect, it } from 'vitest';
import { decodeBinaryFrame } from '@tabgrid/protocol/binary-frame';
import { fromSocketForm, toTextForm } from '@tabgrid/protocol/bytes';
import { frameOf, packValue } from '@tabgrid/protocol/packed-value';
import { storedValue } from '@tabgrid/protocol/stored';
import { jobRecord } from '../job-store.conformance.js';
import { tempDirPerTest } from '../../testing/temp-dir-per-test.js';
import { PgJobStore } from './pg-job-store.js';
import { PG_SCHEMA_VERSION, quoteIdent } from './pg-migrations.js';
import { describeWithPostgres, schemaPerDirectory } from './pg-test-database.js';

const OLD_BYTES = { m: new Float32Array([1.5, -2, 1e-3]), raw: new Uint8Array([0, 255, 7]) };
const OLD_TEXT = JSON.stringify(toTextForm(OLD_BYTES));

describeWithPostgres('PostgreSQL upgrade to version 3', (url) => {
  const options = schemaPerDirectory(url);
  const dir = tempDirPerTest('tabgrid-pg-upgrade-');

  it('reads base64 rows of version 2 as before, and stores new typed arrays as bytea', async () => {
    const { schema } = options(dir.path);
    // A version-2 database: the current schema with version 3's columns taken away again.
    const created = new PgJobStore({ url, schema });
    await created.createJob(jobRecord('old'), { program: 'x', argsJson: 'null' });
    await created.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`SET search_path = ${quoteIdent(schema!)}`);
      await client.query('ALTER TABLE tasks DROP COLUMN input_bytes');
      await client.query('ALTER TABLE outcomes DROP COLUMN payload_bytes');
      await client.query('DELETE FROM tabgrid_migrations WHERE version = 3');
      // What a version-2 server wrote for a task and a result holding typed arrays.
      await client.query(
        "INSERT INTO task_batches (job_id, first_index, count, batch_id) VALUES ('old', 0, 2, 'b0')",
      );
      await client.query(
        "INSERT INTO tasks (job_id, idx, input, submitted_at) VALUES ('old', 0, $1, 5), ('old', 1, '\"x\"', 5)",
        [OLD_TEXT],
      );
      await client.query(
        "INSERT INTO outcomes (job_id, idx, seq, ok, payload) VALUES ('old', 1, 1, true, $1)",
        [OLD_TEXT],
      );
    } finally {
      await client.end();
    }

    const store = new PgJobStore({ url, schema });
    const [task] = await store.readQueued('old', 0, 10);
    expect(task).toEqual({ index: 0, input: OLD_TEXT, submittedAt: 5 });
    const frame = frameOf([task!.input], ([input]) => `{"items":[{"input":${input}}]}`);
    const items = (decodeBinaryFrame(frame as Uint8Array) as { items: { input: unknown }[] }).items;
    expect(fromSocketForm(items[0]!.input)).toEqual(OLD_BYTES);
    const [outcome] = await store.readOutcomes('old', 0, 'all', 10);
    expect(outcome).toEqual({ seq: 1, index: 1, ok: true, payload: OLD_TEXT });
    expect(fromSocketForm(storedValue(outcome!.payload))).toEqual(OLD_BYTES);

    const packed = packValue(OLD_BYTES) as Uint8Array;
    await store.appendTasks('old', 'b1', 2, [packed], 6);
    await store.settle('old', [{ seq: 2, index: 2, ok: true, payload: packed }]);
    expect(new Uint8Array((await store.readTask('old', 2))!.input as Uint8Array)).toEqual(packed);
    const [fresh] = await store.readOutcomes('old', 1, 'all', 10);
    expect(new Uint8Array(fresh!.payload as Uint8Array)).toEqual(packed);
    await store.close();

    const check = new pg.Client({ connectionString: url });
    await check.connect();
    try {
      await check.query(`SET search_path = ${quoteIdent(schema!)}`);
      const versions = await check.query('SELECT max(version) AS v FROM tabgrid_migrations');
      expect(versions.rows[0]).toEqual({ v: PG_SCHEMA_VERSION });
      const rows = await check.query(
        "SELECT input, octet_length(input_bytes) AS n FROM tasks WHERE job_id = 'old' AND idx = 2",
      );
      expect(rows.rows[0]).toEqual({ input: '*', n: packed.length });
    } finally {
      await check.end();
    }
  });
});

// PostgreSQL against SQLite (issue 15): the same load on one server, once on each store, in one
// run: simulated workers (@tabgrid/fleet) computing a job submitted and consumed with the SDK.
// Prints tasks/s from submit to last result, the server's peak RSS and CPU, and PostgreSQL's CPU
// (its cluster's processes, when it runs on this machine). The database is
// TABGRID_BENCH_DATABASE_URL or TABGRID_TEST_DATABASE_URL (what `npm test` has); each run gets a
// database of its own, created and dropped here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Fleet } from '@tabgrid/fleet';
import { Tabgrid } from '@tabgrid/sdk';
import { treeCpuSeconds } from '../lib/proc.mjs';
import { fmt, report } from '../lib/report.mjs';
import { TOKEN, startServer } from '../lib/server.mjs';

/** The cluster's postmaster, when the test cluster of scripts/postgres-test-cluster.sh runs here. */
function postmasterPid() {
  const dir = process.env.TABGRID_TEST_PG_DIR;
  if (!dir) return undefined;
  try {
    return Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

async function withDatabase(baseUrl, use) {
  const name = `tabgrid_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    return await use(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

async function runOnce({ workers, tasks, env }) {
  const server = await startServer({ env });
  const fleet = new Fleet({ url: server.wsUrl, workers, credit: 32 });
  const tg = new Tabgrid({ url: server.url, token: TOKEN });
  const postgres = env.TABGRID_DATABASE_URL ? postmasterPid() : undefined;
  try {
    await fleet.start();
    const job = await tg.createJob({
      program: 'function Run(d) { return d * 2 }',
      name: 'bench-pg',
    });
    function* inputs() {
      for (let i = 0; i < tasks; i++) yield i;
    }
    const serverCpu = server.cpuSeconds();
    const pgCpu = postgres === undefined ? undefined : treeCpuSeconds(postgres);
    const started = performance.now();
    let received = 0;
    let errors = 0;
    for await (const out of job.run(inputs())) {
      received++;
      if (!out.ok || out.value !== out.index * 2) errors++;
    }
    const seconds = (performance.now() - started) / 1000;
    if (received !== tasks || errors > 0)
      throw new Error(`postgres: ${received}/${tasks} received, ${errors} errors`);
    return {
      rate: tasks / seconds,
      seconds,
      rssMb: server.peakRssMb(),
      serverCpu: server.cpuSeconds() - serverCpu,
      pgCpu: pgCpu === undefined ? undefined : treeCpuSeconds(postgres) - pgCpu,
    };
  } finally {
    await tg.close();
    await fleet.stop();
    await server.stop();
  }
}

export async function postgresVsSqlite({ workers, tasks }) {
  const baseUrl = process.env.TABGRID_BENCH_DATABASE_URL ?? process.env.TABGRID_TEST_DATABASE_URL;
  if (!baseUrl) {
    report('postgres', [
      [
        'skipped',
        'no TABGRID_BENCH_DATABASE_URL or TABGRID_TEST_DATABASE_URL (README, "Several nodes")',
      ],
    ]);
    return {};
  }
  const sqlite = await runOnce({ workers, tasks, env: {} });
  let onPg;
  try {
    onPg = await withDatabase(baseUrl, (url) =>
      runOnce({ workers, tasks, env: { TABGRID_DATABASE_URL: url } }),
    );
  } catch (err) {
    // A database the bench may not create databases on: say so, as without one at all.
    if (!/permission denied to create database/.test(String(err?.message))) throw err;
    report('postgres', [['skipped', `${err.message}: the bench needs a role with CREATEDB`]]);
    return {};
  }
  const line = (r) =>
    `${fmt(r.rate)} tasks/s (${r.seconds.toFixed(1)} s); server CPU ${r.serverCpu.toFixed(1)} s, peak RSS ${fmt(r.rssMb)} MB`;
  report('postgres', [
    ['load', `${fmt(tasks)} tasks, ${fmt(workers)} simulated workers, one server`],
    ['SQLite', line(sqlite)],
    [
      'PostgreSQL',
      `${line(onPg)}; PostgreSQL CPU ${onPg.pgCpu === undefined ? 'not measured (not a local test cluster)' : `${onPg.pgCpu.toFixed(1)} s`}`,
    ],
    ['ratio', `PostgreSQL / SQLite ${(onPg.rate / sqlite.rate).toFixed(2)}`],
  ]);
  return { sqlite: sqlite.rate, postgres: onPg.rate };
}

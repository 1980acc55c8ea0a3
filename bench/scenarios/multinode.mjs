// Several nodes on PostgreSQL against one on SQLite (issue 15), the same load in one run:
// simulated workers (@tabgrid/fleet) computing a job submitted and consumed with the SDK on the
// first node; once on one SQLite server, once on one PostgreSQL node, once on three PostgreSQL
// nodes with the workers spread over them. Prints tasks/s from submit to last result, each node's
// peak RSS, the nodes' CPU and PostgreSQL's CPU (its cluster's processes, when it runs on this
// machine). The database is TABGRID_BENCH_DATABASE_URL or TABGRID_TEST_DATABASE_URL (what
// `npm test` has); each run gets a database of its own, created and dropped here.
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

/** One node per env (the SDK on the first), `workers` spread over them. */
async function runOnce({ workers, tasks, envs }) {
  const servers = [];
  const fleets = [];
  let tg;
  const postgres = envs[0].TABGRID_DATABASE_URL ? postmasterPid() : undefined;
  try {
    // One at a time: the first migrates the database, the others find it current.
    for (const env of envs) servers.push(await startServer({ env }));
    for (const [i, server] of servers.entries()) {
      const share = Math.floor(workers / servers.length) + (i < workers % servers.length ? 1 : 0);
      const fleet = new Fleet({ url: server.wsUrl, workers: share, credit: 32, sampleMs: 0 });
      fleets.push(fleet);
      await fleet.start();
    }
    tg = new Tabgrid({ url: servers[0].url, token: TOKEN });
    const job = await tg.createJob({
      program: 'function Run(d) { return d * 2 }',
      name: 'bench-multinode',
    });
    function* inputs() {
      for (let i = 0; i < tasks; i++) yield i;
    }
    const serverCpu = servers.map((s) => s.cpuSeconds());
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
      throw new Error(`multinode: ${received}/${tasks} received, ${errors} errors`);
    return {
      rate: tasks / seconds,
      seconds,
      rssMb: servers.map((s) => s.peakRssMb()),
      serverCpu: servers.reduce((sum, s, i) => sum + s.cpuSeconds() - serverCpu[i], 0),
      pgCpu: pgCpu === undefined ? undefined : treeCpuSeconds(postgres) - pgCpu,
    };
  } finally {
    await tg?.close();
    for (const fleet of fleets) await fleet.stop();
    for (const server of servers) await server.stop();
  }
}

export async function multinode({ workers, tasks }) {
  const baseUrl = process.env.TABGRID_BENCH_DATABASE_URL ?? process.env.TABGRID_TEST_DATABASE_URL;
  if (!baseUrl) {
    report('multinode', [
      [
        'skipped',
        'no TABGRID_BENCH_DATABASE_URL or TABGRID_TEST_DATABASE_URL (README, "Several nodes")',
      ],
    ]);
    return {};
  }
  const sqlite = await runOnce({ workers, tasks, envs: [{}] });
  let one;
  let three;
  try {
    one = await withDatabase(baseUrl, (url) =>
      runOnce({ workers, tasks, envs: [{ TABGRID_DATABASE_URL: url, TABGRID_NODE_ID: 'node-1' }] }),
    );
    three = await withDatabase(baseUrl, (url) =>
      runOnce({
        workers,
        tasks,
        envs: [1, 2, 3].map((i) => ({ TABGRID_DATABASE_URL: url, TABGRID_NODE_ID: `node-${i}` })),
      }),
    );
  } catch (err) {
    // A database the bench may not create databases on: say so, as without one at all.
    if (!/permission denied to create database/.test(String(err?.message))) throw err;
    report('multinode', [['skipped', `${err.message}: the bench needs a role with CREATEDB`]]);
    return {};
  }
  const line = (r) =>
    `${fmt(r.rate)} tasks/s (${r.seconds.toFixed(1)} s); nodes' CPU ${r.serverCpu.toFixed(1)} s, peak RSS ${r.rssMb.map((mb) => `${fmt(mb)} MB`).join(' / ')}` +
    (r.pgCpu === undefined ? '' : `; PostgreSQL CPU ${r.pgCpu.toFixed(1)} s`);
  report('multinode', [
    ['load', `${fmt(tasks)} tasks, ${fmt(workers)} simulated workers, the SDK on the first node`],
    ['SQLite, one node', line(sqlite)],
    ['PostgreSQL, one node', line(one)],
    ['PostgreSQL, three nodes', line(three)],
    [
      'ratios',
      `one PostgreSQL node / SQLite ${(one.rate / sqlite.rate).toFixed(2)}; three nodes / SQLite ${(three.rate / sqlite.rate).toFixed(2)} (goal ≥ 0.5 on this machine)`,
    ],
  ]);
  return { sqlite: sqlite.rate, postgres: one.rate, threeNodes: three.rate };
}

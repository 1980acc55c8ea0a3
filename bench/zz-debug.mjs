import pg from 'pg';
import { Fleet } from '@tabgrid/fleet';
import { Tabgrid } from '@tabgrid/sdk';
import { TOKEN, startServer } from '/work/w15-pg/bench/lib/server.mjs';
const base = process.env.TABGRID_TEST_DATABASE_URL;
const admin = new pg.Client({ connectionString: base }); await admin.connect();
const name = `dbg_${Date.now()}`; await admin.query(`CREATE DATABASE ${name}`);
const u = new URL(base); u.pathname = '/' + name;
const server = await startServer({ env: { TABGRID_DATABASE_URL: u.toString() } });
const fleet = new Fleet({ url: server.wsUrl, workers: 20, credit: 32 });
const tg = new Tabgrid({ url: server.url, token: TOKEN });
await fleet.start();
const job = await tg.createJob({ program: 'function Run(d) { return d * 2 }' });
let shown = 0, errors = 0, n = 0;
for await (const out of job.run(Array.from({ length: Number(process.argv[2] ?? 5000) }, (_, i) => i))) {
  n++;
  if (!out.ok || out.value !== out.index * 2) { errors++; if (shown++ < 5) console.log(JSON.stringify(out).slice(0, 400)); }
}
console.log({ n, errors });
await tg.close(); await fleet.stop(); await server.stop();
await admin.query(`DROP DATABASE ${name} WITH (FORCE)`); await admin.end();

// pool.unorderedImap against job.run: the same trivial tasks (d => d * 2) through the same
// headless Chromium tab, by turns (run, pool, pool, run, …, so a machine that speeds up or
// slows down during the sitting colours both alike). Issue #14's bar: the pool within 10 % of
// job.run. Prints each round's figures, the medians and the ratio.
import { Tabgrid } from '@tabgrid/sdk';
import { openTabs } from '../lib/browser.mjs';
import { fmt, report } from '../lib/report.mjs';
import { TOKEN, startServer } from '../lib/server.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

function* inputs(tasks) {
  for (let i = 0; i < tasks; i++) yield i;
}

/** Tasks per second of one job through `job.run`. */
async function viaRun(tg, tasks) {
  const job = await tg.createJob({ program: (d) => d * 2, name: 'bench-pool-run' });
  const started = performance.now();
  let received = 0;
  for await (const out of job.run(inputs(tasks))) if (out.ok) received++;
  const seconds = (performance.now() - started) / 1000;
  if (received !== tasks) throw new Error(`job.run: ${received}/${tasks} results`);
  return tasks / seconds;
}

/** Tasks per second of one pool call through `pool.unorderedImap` (job creation included). */
async function viaPool(pool, tasks) {
  const started = performance.now();
  let received = 0;
  for await (const value of pool.unorderedImap(inputs(tasks)))
    if (typeof value === 'number') received++;
  const seconds = (performance.now() - started) / 1000;
  if (received !== tasks) throw new Error(`pool.unorderedImap: ${received}/${tasks} results`);
  return tasks / seconds;
}

export async function poolThroughput({ tasks, rounds = 3, tabs = 1 }) {
  const server = await startServer();
  const browser = await openTabs(server.url, tabs);
  const tg = new Tabgrid({ url: server.url, token: TOKEN });
  try {
    const pool = tg.pool((d) => d * 2, { name: 'bench-pool' });
    // A warm-up of each, unmeasured: the first job of a tab pays for compiling the runtime.
    await viaRun(tg, Math.min(tasks, 5_000));
    await viaPool(pool, Math.min(tasks, 5_000));
    const run = [];
    const unordered = [];
    for (let round = 0; round < rounds; round++) {
      // ABBA: flip which goes first every round.
      if (round % 2 === 0) {
        run.push(await viaRun(tg, tasks));
        unordered.push(await viaPool(pool, tasks));
      } else {
        unordered.push(await viaPool(pool, tasks));
        run.push(await viaRun(tg, tasks));
      }
    }
    const ratio = median(unordered) / median(run);
    report('pool', [
      ['tasks', `${fmt(tasks)} per job on ${tabs} tab(s), d => d * 2, ${rounds} round(s) each`],
      ['job.run tasks/s', `${fmt(median(run))}  (rounds: ${run.map((r) => fmt(r)).join(', ')})`],
      [
        'unorderedImap tasks/s',
        `${fmt(median(unordered))}  (rounds: ${unordered.map((r) => fmt(r)).join(', ')})`,
      ],
      ['pool / run', `${ratio.toFixed(3)}  (bar: ≥ 0.90)`],
    ]);
    return { ratio };
  } finally {
    await tg.close();
    await browser.close();
    await server.stop();
  }
}

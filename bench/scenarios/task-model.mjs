// 6. Task model: what `tabgrid.progress()` and `tabgrid.collect()` cost. The throughput
// scenario's set-up (one server, one headless Chromium tab, trivial tasks consumed with run()),
// with two jobs in one run: plain `d => d * 2`, and the same work with 100 progress() calls and
// 10 collected values per task. Rounds alternate the two, so a machine that changes speed
// during the run colours both alike; the figures are medians. The bar: the telemetry
// job keeps at least half of plain throughput.
import { Tabgrid } from '@tabgrid/sdk';
import { openTabs } from '../lib/browser.mjs';
import { fmt, report } from '../lib/report.mjs';
import { TOKEN, startServer } from '../lib/server.mjs';

const PLAIN = 'function Run(d) { return d * 2; }';
const TELEMETRY = `function Run(d) {
  for (let i = 0; i < 100; i++) tabgrid.progress(i / 100);
  for (let i = 0; i < 10; i++) tabgrid.collect('x', i);
  return d * 2;
}`;
const BAR = 0.5;

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** One job of `tasks` tasks through the grid; tasks/s from submit to last result, and CPU. */
async function timeJob(tg, server, browser, { program, name, tasks }) {
  const job = await tg.createJob({ program, name });
  function* inputs() {
    for (let i = 0; i < tasks; i++) yield i;
  }
  const serverCpu = server.cpuSeconds();
  const browserCpu = browser.cpuSeconds();
  const clientCpu = process.cpuUsage();
  const started = performance.now();
  let received = 0;
  let wrong = 0;
  let firstError = '';
  for await (const out of job.run(inputs())) {
    received++;
    if (!out.ok || out.value !== out.index * 2) {
      wrong++;
      firstError ||= JSON.stringify(out).slice(0, 500);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(clientCpu);
  if (received !== tasks || wrong > 0) {
    throw new Error(`${name}: received ${received}/${tasks}, ${wrong} wrong; first: ${firstError}`);
  }
  return {
    job,
    rate: tasks / seconds,
    seconds,
    cpu: {
      server: server.cpuSeconds() - serverCpu,
      client: (user + system) / 1e6,
      browser: browser.cpuSeconds() - browserCpu,
    },
  };
}

/**
 * Checks that the collected series were stored: every task's `x` holds 0..9. Reads the
 * durable copy through the SDK (a few thousand items suffice: a sample, not a second bench).
 */
async function checkSeries(job, tasks) {
  const labels = await job.seriesLabels();
  if (!labels.includes('x')) throw new Error(`series labels ${JSON.stringify(labels)}: no "x"`);
  const wanted = Math.min(tasks, 2_000);
  let seen = 0;
  for await (const item of job.series('x')) {
    const values = item.values;
    if (values.length !== 10 || values.some((v, i) => v !== i)) {
      throw new Error(`task ${item.index}: series x is ${JSON.stringify(values).slice(0, 200)}`);
    }
    if (++seen >= wanted) break;
  }
  if (seen < wanted) throw new Error(`series x: ${seen} items, wanted ${wanted}`);
  return seen;
}

export async function taskModel({ tasks, rounds }) {
  const server = await startServer();
  const browser = await openTabs(server.url, 1);
  const tg = new Tabgrid({ url: server.url, token: TOKEN });
  try {
    const plain = { program: PLAIN, name: 'bench-task-model-plain', tasks };
    const telemetry = { program: TELEMETRY, name: 'bench-task-model-telemetry', tasks };
    // Warm-up, not counted: the tab's first tasks run code V8 has not optimised yet, and the
    // telemetry path's code would otherwise be cold only on its first round.
    const warmUp = Math.min(5_000, tasks);
    await timeJob(tg, server, browser, { ...plain, tasks: warmUp });
    await timeJob(tg, server, browser, { ...telemetry, tasks: warmUp });
    const runs = { plain: [], telemetry: [] };
    let lastTelemetryJob;
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first: plain, telemetry | telemetry, plain | …
      const order = round % 2 === 0 ? ['plain', 'telemetry'] : ['telemetry', 'plain'];
      for (const kind of order) {
        const run = await timeJob(tg, server, browser, kind === 'plain' ? plain : telemetry);
        runs[kind].push(run);
        if (kind === 'telemetry') lastTelemetryJob = run.job;
      }
    }
    const checked = await checkSeries(lastTelemetryJob, tasks);
    const rate = (kind) => median(runs[kind].map((run) => run.rate));
    const ratio = rate('telemetry') / rate('plain');
    const line = (kind) => {
      const middle = runs[kind].find((run) => run.rate === rate(kind));
      const all = runs[kind].map((run) => fmt(run.rate)).join(', ');
      return (
        `${fmt(rate(kind))} tasks/s (median of ${all}); CPU of the median run: ` +
        `server ${middle.cpu.server.toFixed(2)} s, SDK ${middle.cpu.client.toFixed(2)} s, ` +
        `Chromium ${middle.cpu.browser.toFixed(2)} s`
      );
    };
    report('task-model', [
      [
        'tasks',
        `${fmt(tasks)} per job, ${rounds} round(s) alternating, 1 tab, durable SQLite, ` +
          `after ${fmt(warmUp)} warm-up tasks of each`,
      ],
      ['plain tasks/s', line('plain')],
      ['telemetry tasks/s', line('telemetry')],
      [
        'telemetry / plain',
        `${ratio.toFixed(2)} (bar ≥ ${BAR}: ${ratio >= BAR ? 'met' : 'NOT MET'})`,
      ],
      ['series check', `${fmt(checked)} tasks' series "x" read back, each [0..9]`],
    ]);
    return { plain: rate('plain'), telemetry: rate('telemetry'), ratio };
  } finally {
    await tg.close();
    await browser.close();
    await server.stop();
  }
}

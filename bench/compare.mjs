// The 5 % bar: this checkout (or --head) against --base, in one sitting on the same machine.
//
//   node bench/compare.mjs --base 8d4f5ff [--head <commit or checkout dir>] \
//     [--only throughput,latency] [--rounds 3] [--short|--full] \
//     [--max-slowdown 5] [--max-latency-rise 5] [--no-warm-up] [--wait-quiet <ms>]
//
// Builds each commit in a temporary git worktree (lib/checkout.mjs), then runs every scenario
// with each checkout's own bench/run.mjs, alternating base and head and flipping which goes
// first every round (A B, B A, A B, …) so a machine that speeds up or slows down during the
// sitting colours both sides alike. Prints per scenario the medians, every run's figure and the
// ratio; exits 1 when the head is more than --max-slowdown % slower on throughput or more than
// --max-latency-rise % higher on latency p50, 2 when it could not measure.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, checkOut, git } from './lib/checkout.mjs';
import { spinMs } from './lib/machine-speed.mjs';
import { ROOT } from './lib/server.mjs';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    head: { type: 'string' },
    only: { type: 'string', default: 'throughput,latency' },
    rounds: { type: 'string', default: '3' },
    short: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    'max-slowdown': { type: 'string', default: '5' },
    'max-latency-rise': { type: 'string', default: '5' },
    'no-warm-up': { type: 'boolean', default: false },
    'wait-quiet': { type: 'string' },
  },
});

/**
 * What each scenario prints that compare reads (bench/lib/report.mjs lines), and which figure is
 * held to a bar. A scenario's own code is run in each checkout, so only its printed lines are
 * the interface: the same in every commit that has the scenario.
 */
const METRICS = {
  throughput: [{ name: 'tasks/s', pattern: /^\s+tasks\/s\s+([\d,.]+)/m, bar: 'slowdown' }],
  latency: [
    { name: 'p50 ms', pattern: /^\s+p50 \/ p99\s+([\d.]+) ms/m, bar: 'rise' },
    { name: 'p99 ms', pattern: /^\s+p50 \/ p99\s+[\d.]+ ms \/ ([\d.]+) ms/m },
  ],
  'task-model': [
    { name: 'plain tasks/s', pattern: /^\s+plain tasks\/s\s+([\d,.]+)/m },
    { name: 'telemetry tasks/s', pattern: /^\s+telemetry tasks\/s\s+([\d,.]+)/m },
  ],
};

function fail(message) {
  console.error(`compare: ${message}`);
  process.exit(2);
}

const rounds = Number(values.rounds);
const maxSlowdown = Number(values['max-slowdown']);
const maxLatencyRise = Number(values['max-latency-rise']);
if (!values.base) fail('--base <commit> is required');
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) fail('--rounds takes 1..50');
if (!(maxSlowdown >= 0) || !(maxLatencyRise >= 0)) fail('thresholds are percentages ≥ 0');
const scenarios = values.only.split(',').filter(Boolean);
for (const name of scenarios) {
  if (!METRICS[name]) fail(`compare reads ${Object.keys(METRICS).join(', ')}, not "${name}"`);
}
const waitQuiet = values['wait-quiet'] === undefined ? undefined : Number(values['wait-quiet']);
if (waitQuiet !== undefined && !(waitQuiet > 0)) fail('--wait-quiet takes milliseconds > 0');
const sizeFlags = values.full ? ['--full'] : values.short ? ['--short'] : [];

/** Runs one scenario of one checkout in a process of its own; resolves to its figures. */
function measure(checkout, scenario) {
  return new Promise((done, reject) => {
    const child = spawn(
      process.execPath,
      [join(checkout.dir, 'bench/run.mjs'), ...sizeFlags, '--only', scenario],
      { cwd: join(checkout.dir, 'bench'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15 * 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const figures = {};
      for (const metric of METRICS[scenario]) {
        const match = metric.pattern.exec(out);
        if (match) figures[metric.name] = Number(match[1].replaceAll(',', ''));
      }
      const missing = METRICS[scenario].filter((metric) => !(metric.name in figures));
      if (code !== 0 || missing.length > 0) {
        reject(
          new Error(
            `${checkout.label} ${scenario}: exit ${code}, ` +
              `missing ${missing.map((m) => m.name).join(', ') || 'nothing'}; it printed:\n${out}`,
          ),
        );
      } else done(figures);
    });
  });
}

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const show = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 2));

/**
 * The machine's speed before a round. With --wait-quiet, first waits (up to 10 minutes, then
 * goes on and says so) until the fixed loop runs within that many ms: a round measured while
 * other work holds the cores says little about a few %.
 */
async function machineSpeed() {
  let ms = spinMs();
  if (waitQuiet === undefined) return ms;
  const giveUp = Date.now() + 10 * 60_000;
  while (ms > waitQuiet && Date.now() < giveUp) {
    console.log(`  machine busy (${ms} ms > ${waitQuiet} ms): waiting 20 s`);
    await new Promise((r) => setTimeout(r, 20_000));
    ms = spinMs();
  }
  if (ms > waitQuiet) console.log(`  still busy after 10 minutes (${ms} ms): measuring anyway`);
  return ms;
}

/** Either a commit (checked out and built in a temp worktree) or an existing checkout. */
async function prepare(spec, label) {
  const asDir = spec === undefined ? ROOT : resolve(spec);
  if (spec === undefined || (existsSync(asDir) && statSync(asDir).isDirectory())) {
    await build(asDir, label);
    const sha = git(asDir, 'rev-parse', 'HEAD');
    const dirty = git(asDir, 'status', '--porcelain').length > 0 ? ' + uncommitted changes' : '';
    return {
      dir: asDir,
      label,
      sha,
      describe: `${sha.slice(0, 12)}${dirty} (${asDir})`,
      close() {},
    };
  }
  const checkout = await checkOut({ repo: ROOT, commit: spec, deps: ROOT, label });
  return { ...checkout, label, describe: `${checkout.sha.slice(0, 12)} (temporary worktree)` };
}

const opened = [];
const closeAll = () => opened.splice(0).forEach((checkout) => checkout.close());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    closeAll();
    process.exit(130);
  });
}

let verdict = 0;
try {
  opened.push(await prepare(values.base, 'base'));
  opened.push(await prepare(values.head, 'head'));
  const [base, head] = opened;
  for (const checkout of opened) {
    for (const scenario of scenarios) {
      if (!existsSync(join(checkout.dir, `bench/scenarios/${scenario}.mjs`))) {
        throw new Error(`${checkout.label} (${checkout.describe}) has no scenario "${scenario}"`);
      }
    }
  }
  console.log(`Tabgrid compare, ${new Date().toISOString()}, node ${process.version}`);
  console.log(`  base ${base.describe}\n  head ${head.describe}`);
  console.log(
    `  ${rounds} round(s) of ${scenarios.join(', ')}, ${sizeFlags[0] ?? 'standard'} sizes`,
  );
  const runs = new Map(opened.map((c) => [c.label, new Map(scenarios.map((s) => [s, []]))]));
  if (!values['no-warm-up']) {
    // One run of each, not counted: the first run of a sitting pays for cold disk caches (each
    // checkout's files, Chromium's) and would otherwise always land on the side that goes first.
    for (const scenario of scenarios) {
      for (const checkout of opened) await measure(checkout, scenario);
    }
    console.log('  warm-up runs done (not counted)');
  }
  const speeds = [];
  for (let round = 1; round <= rounds; round++) {
    speeds.push(await machineSpeed());
    const order = round % 2 === 1 ? [base, head] : [head, base];
    for (const scenario of scenarios) {
      for (const checkout of order) {
        const figures = await measure(checkout, scenario);
        runs.get(checkout.label).get(scenario).push(figures);
        const text = Object.entries(figures).map(([k, v]) => `${k} ${show(v)}`);
        console.log(
          `  round ${round} ${scenario.padEnd(10)} ${checkout.label}: ${text.join(', ')}` +
            `  (load average ${loadAverage()})`,
        );
      }
    }
  }
  speeds.push(spinMs());
  const spread = Math.max(...speeds) / Math.min(...speeds);
  console.log(
    `\nMachine speed (fixed loop, ms, lower is faster; before each round and at the end): ` +
      `${speeds.join(', ')}` +
      (spread > 1.3
        ? `\n  It varied ${spread.toFixed(1)}× during the sitting: other work shared the cores, ` +
          `and differences of a few % are below what this sitting can resolve.`
        : ''),
  );
  console.log(
    `\n${'scenario'.padEnd(11)} ${'figure'.padEnd(18)} ${'base median (runs)'.padEnd(34)} ` +
      `${'head median (runs)'.padEnd(34)} head/base`,
  );
  for (const scenario of scenarios) {
    for (const metric of METRICS[scenario]) {
      const side = (label) =>
        runs
          .get(label)
          .get(scenario)
          .map((f) => f[metric.name]);
      const [bs, hs] = [side('base'), side('head')];
      const ratio = median(hs) / median(bs);
      const cell = (xs) => `${show(median(xs))} (${xs.map(show).join(', ')})`.padEnd(34);
      let bar = '';
      if (metric.bar === 'slowdown') {
        const ok = ratio >= 1 - maxSlowdown / 100;
        bar = `bar ≥ ${(1 - maxSlowdown / 100).toFixed(2)}: ${ok ? 'ok' : 'FAIL'}`;
        if (!ok) verdict = 1;
      } else if (metric.bar === 'rise') {
        const ok = ratio <= 1 + maxLatencyRise / 100;
        bar = `bar ≤ ${(1 + maxLatencyRise / 100).toFixed(2)}: ${ok ? 'ok' : 'FAIL'}`;
        if (!ok) verdict = 1;
      }
      console.log(
        `${scenario.padEnd(11)} ${metric.name.padEnd(18)} ${cell(bs)} ${cell(hs)} ` +
          `${ratio.toFixed(3)}  ${bar}`,
      );
      // Two more readings of the same runs, not held to the bar: the best run of each side
      // (the least disturbed by other work) and the median of the rounds' own head/base pairs
      // (each pair ran back to back, so slow drift of the machine cancels within it).
      const best =
        metric.bar === 'slowdown' || metric.name.includes('tasks/s') ? Math.max : Math.min;
      const pairs = hs.map((h, i) => h / bs[i]);
      console.log(
        `${''.padEnd(30)} best run ${(best(...hs) / best(...bs)).toFixed(3)}, ` +
          `median of round pairs ${median(pairs).toFixed(3)} (${pairs.map((r) => r.toFixed(2)).join(', ')})`,
      );
    }
  }
  console.log(verdict === 0 ? '\nWithin the bars.' : '\nThe head is over a bar (see FAIL).');
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  verdict = 2;
} finally {
  closeAll();
}
process.exit(verdict);

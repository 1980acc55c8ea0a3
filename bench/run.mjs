// The benchmark suite. `npm run bench` (standard sizes), `-- --short` (CI: small, quick, no
// thresholds), `-- --full` (the sizes in bench/README.md). `-- --only latency,throughput` picks.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spinMs } from './lib/machine-speed.mjs';
import { binary } from './scenarios/binary.mjs';
import { cpuScaling } from './scenarios/cpu-scaling.mjs';
import { latency } from './scenarios/latency.mjs';
import { poolThroughput } from './scenarios/pool.mjs';
import { multinode } from './scenarios/multinode.mjs';
import { scale } from './scenarios/scale.mjs';
import { submission } from './scenarios/submission.mjs';
import { taskModel } from './scenarios/task-model.mjs';
import { throughput } from './scenarios/throughput.mjs';
import { webgpu } from './scenarios/webgpu.mjs';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const size = values.full ? 'full' : values.short ? 'short' : 'standard';
const sizes = {
  short: {
    throughput: 20_000,
    latency: 50,
    warmUp: 100,
    rows: 12,
    rounds: 1,
    submission: 50_000,
    workers: 200,
    scaleTasks: 50_000,
    binarySmall: 2_000,
    binaryLarge: 20,
    matmulN: 128,
    matmulTasks: 8,
  },
  standard: {
    throughput: 100_000,
    latency: 300,
    warmUp: 500,
    rows: 96,
    rounds: 3,
    submission: 200_000,
    workers: 1000,
    scaleTasks: 200_000,
    binarySmall: 20_000,
    binaryLarge: 200,
    matmulN: 256,
    matmulTasks: 16,
  },
  full: {
    throughput: 200_000,
    latency: 1000,
    warmUp: 1000,
    rows: 192,
    rounds: 3,
    submission: 1_000_000,
    workers: 2000,
    scaleTasks: 1_000_000,
    binarySmall: 20_000,
    binaryLarge: 200,
    matmulN: 512,
    matmulTasks: 16,
  },
}[size];

const scenarios = {
  throughput: () => throughput({ tasks: sizes.throughput }),
  latency: () => latency({ samples: sizes.latency, warmUp: sizes.warmUp }),
  'cpu-scaling': () => cpuScaling({ rows: sizes.rows, rounds: sizes.rounds }),
  scale: () => scale({ workers: sizes.workers, tasks: sizes.scaleTasks }),
  submission: () => submission({ tasks: sizes.submission }),
  'task-model': () => taskModel({ tasks: sizes.throughput, rounds: sizes.rounds }),
  pool: () => poolThroughput({ tasks: sizes.throughput, rounds: sizes.rounds }),
  multinode: () => multinode({ workers: sizes.workers / 2, tasks: sizes.scaleTasks }),
  binary: () =>
    binary({
      small: { tasks: sizes.binarySmall, bytes: 16 * 1024 },
      large: { tasks: sizes.binaryLarge, bytes: 4 * 1024 * 1024 },
    }),
  webgpu: () => webgpu({ n: sizes.matmulN, tasks: sizes.matmulTasks }),
};
const chosen = values.only ? values.only.split(',') : Object.keys(scenarios);
for (const name of chosen) {
  if (!scenarios[name]) {
    throw new Error(`Unknown scenario "${name}": pick from ${Object.keys(scenarios).join(', ')}`);
  }
}
if (chosen.length === 1) {
  await scenarios[chosen[0]]();
} else {
  // One process per scenario, so no scenario's memory or warm JIT colours the next one's figures.
  console.log(`Tabgrid benchmarks (${size}), ${new Date().toISOString()}, node ${process.version}`);
  console.log(`Machine speed now: ${spinMs()} ms for a fixed single-thread loop (lower is faster)`);
  const flags = values.full ? ['--full'] : values.short ? ['--short'] : [];
  for (const name of chosen) {
    const script = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, [script, ...flags, '--only', name], { stdio: 'inherit' });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    if (code !== 0) process.exit(code ?? 1);
  }
}

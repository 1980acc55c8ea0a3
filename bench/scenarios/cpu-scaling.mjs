// 3. CPU scaling: Mandelbrot rows of ~20 ms each on 1 tab × 1 thread, 1 tab × 2 threads, and plain
// single-threaded Node running the same Run.
import { Worker } from 'node:worker_threads';
import { Tabgrid } from '@tabgrid/sdk';
import { openTabs } from '../lib/browser.mjs';
import { fmt, report } from '../lib/report.mjs';
import { TOKEN, startServer } from '../lib/server.mjs';

const PROGRAM = `function Run(y, args) {
  const { width, height, iterations } = args;
  let inside = 0;
  const ci = (y / height) * 2.4 - 1.2;
  for (let x = 0; x < width; x++) {
    const cr = (x / width) * 3.5 - 2.5;
    let zr = 0, zi = 0, n = 0;
    while (n < iterations && zr * zr + zi * zi < 4) {
      const t = zr * zr - zi * zi + cr;
      zi = 2 * zr * zi + ci;
      zr = t;
      n++;
    }
    if (n === iterations) inside++;
  }
  return inside;
}`;
const ARGS = { width: 4000, height: 800, iterations: 12_000 }; // ~20 ms a row on average

/** Lets a freshly opened tab finish starting its threads before the clock runs. */
const SETTLE_MS = 500;

async function onTab(server, rows, threads) {
  const browser = await openTabs(server.url, 1, `?threads=${threads}`);
  const tg = new Tabgrid({ url: server.url, token: TOKEN });
  try {
    const job = await tg.createJob({
      program: PROGRAM,
      args: ARGS,
      name: `mandelbrot-${threads}t`,
    });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const started = performance.now();
    await job.map(rows);
    return (performance.now() - started) / 1000;
  } finally {
    await tg.close();
    await browser.close();
  }
}

/**
 * The same rows on plain Node worker_threads that take the next row from a shared counter, one
 * at a time: the best a scheduler can do with this work on this machine, measured in the run.
 */
async function onNodeThreads(rows, threads) {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    ${PROGRAM}
    const { rows, args, counter } = workerData;
    parentPort.once('message', () => {
      for (let i = Atomics.add(counter, 0, 1); i < rows.length; i = Atomics.add(counter, 0, 1)) {
        Run(rows[i], args);
      }
      parentPort.postMessage('done');
    });
    parentPort.postMessage('ready');`;
  const workers = Array.from(
    { length: threads },
    () => new Worker(source, { eval: true, workerData: { rows, args: ARGS, counter } }),
  );
  const next = (worker) =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  try {
    await Promise.all(workers.map(next)); // started: thread start-up is not part of the work
    const started = performance.now();
    const done = workers.map(next);
    for (const worker of workers) worker.postMessage('go');
    await Promise.all(done);
    return (performance.now() - started) / 1000;
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function cpuScaling({ rows: count, rounds = 1 }) {
  const rows = Array.from({ length: count }, (_, i) => Math.floor((i * ARGS.height) / count));
  // Trusted benchmark code: the same program text the tabs run, compiled for Node's baseline.
  const run = new Function(`${PROGRAM}; return Run;`)();
  const nodeStarted = performance.now();
  for (const y of rows) run(y, ARGS);
  const node = (performance.now() - nodeStarted) / 1000;
  const nodeTwo = await onNodeThreads(rows, 2);
  const ceiling = (await onNodeThreads(rows, 1)) / nodeTwo;
  const server = await startServer();
  try {
    // Alternating rounds, so a noisy spell on the shared machine hits both sides alike.
    const ones = [];
    const twos = [];
    for (let round = 0; round < rounds; round++) {
      ones.push(await onTab(server, rows, 1));
      twos.push(await onTab(server, rows, 2));
    }
    const one = median(ones);
    const two = median(twos);
    const speedups = ones.map((time, i) => time / twos[i]);
    const speedup = median(speedups);
    const spread =
      rounds > 1 ? ` (rounds: ${speedups.map((x) => x.toFixed(2)).join(', ')}; median shown)` : '';
    report('cpu scaling', [
      ['work', `${count} Mandelbrot rows, ~${((node / count) * 1000).toFixed(0)} ms each in Node`],
      ['plain Node, 1 thread', `${node.toFixed(2)} s`],
      [
        'Node, 2 worker_threads',
        `${nodeTwo.toFixed(2)} s, ${ceiling.toFixed(2)}× its 1-thread run (this machine's ceiling)`,
      ],
      ['1 tab × 1 thread', `${one.toFixed(2)} s (${(node / one).toFixed(2)}× Node)`],
      ['1 tab × 2 threads', `${two.toFixed(2)} s (${(node / two).toFixed(2)}× Node)`],
      [
        'speedup 2 vs 1 thread',
        `${speedup.toFixed(2)}×, efficiency ${fmt((speedup / 2) * 100)}%, ` +
          `${fmt((speedup / ceiling) * 100)}% of the ceiling${spread}`,
      ],
      ['server peak RSS', `${fmt(server.peakRssMb())} MB`],
    ]);
    return { speedup };
  } finally {
    await server.stop();
  }
}

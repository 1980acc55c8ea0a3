// 3. CPU scaling: Mandelbrot rows of ~20 ms each on 1 tab × 1 thread, 1 tab × 2 threads, and plain
// single-threaded Node running the same Run.
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

async function onTab(server, rows, threads) {
  const browser = await openTabs(server.url, 1, `?threads=${threads}`);
  const tg = new Tabgrid({ url: server.url, token: TOKEN });
  try {
    const job = await tg.createJob({
      program: PROGRAM,
      args: ARGS,
      name: `mandelbrot-${threads}t`,
    });
    const started = performance.now();
    await job.map(rows);
    return (performance.now() - started) / 1000;
  } finally {
    await tg.close();
    await browser.close();
  }
}

export async function cpuScaling({ rows: count }) {
  const rows = Array.from({ length: count }, (_, i) => Math.floor((i * ARGS.height) / count));
  // eslint-disable-next-line no-new-func -- trusted benchmark code, the same text the tabs run
  const run = new Function(`${PROGRAM}; return Run;`)();
  const nodeStarted = performance.now();
  for (const y of rows) run(y, ARGS);
  const node = (performance.now() - nodeStarted) / 1000;
  const server = await startServer();
  try {
    const one = await onTab(server, rows, 1);
    const two = await onTab(server, rows, 2);
    const speedup = one / two;
    report('cpu scaling', [
      ['work', `${count} Mandelbrot rows, ~${((node / count) * 1000).toFixed(0)} ms each in Node`],
      ['plain Node, 1 thread', `${node.toFixed(2)} s`],
      ['1 tab × 1 thread', `${one.toFixed(2)} s (${(node / one).toFixed(2)}× Node)`],
      ['1 tab × 2 threads', `${two.toFixed(2)} s (${(node / two).toFixed(2)}× Node)`],
      ['speedup 2 vs 1 thread', `${speedup.toFixed(2)}×, efficiency ${fmt((speedup / 2) * 100)}%`],
      ['server peak RSS', `${fmt(server.peakRssMb())} MB`],
    ]);
    return { speedup };
  } finally {
    await server.stop();
  }
}

// WebGPU jobs (issue 16): the same n × n float32 matrix multiply as a WGSL compute shader
// (`tabgrid.gpu()`) and in plain JS, on one headless Chromium tab (one thread) started with
// --enable-unsafe-webgpu, whose adapter here is SwiftShader: a software GPU on the same CPU
// cores. One job, so both kinds share the thread (and its device): a GPU task first to build the
// pipeline (reported apart), then the measured tasks of each kind, interleaved. Each task's
// compute time is its `Run` as the thread timed it (provenance.runMs); every product is checked
// against plain JS here.
import { Tabgrid } from '@tabgrid/sdk';
import { MATMUL_PROGRAM, integerMatrix, matmulJs } from '../../examples/webgpu-matmul-program.mjs';
import { openTabs } from '../lib/browser.mjs';
import { fmt, report } from '../lib/report.mjs';
import { TOKEN, startServer } from '../lib/server.mjs';

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function webgpu({ n, tasks }) {
  const server = await startServer();
  const browser = await openTabs(server.url, 1, '?threads=1', { webgpu: true });
  const tg = new Tabgrid({ url: server.url, token: TOKEN });
  try {
    const job = await tg.createJob({
      name: `bench-webgpu-${n}`,
      requirements: { webgpu: true },
      program: MATMUL_PROGRAM,
    });
    const a = integerMatrix(n, 1);
    const b = integerMatrix(n, 2);
    const expected = matmulJs(a, b, n);
    // Task 0 builds the GPU pipeline; then GPU and JS alternate.
    const inputs = [{ a, b, n, on: 'gpu' }];
    for (let i = 0; i < tasks; i++) inputs.push({ a, b, n, on: 'gpu' }, { a, b, n, on: 'js' });
    const ms = { gpu: [], js: [] };
    let firstGpuMs = 0;
    for await (const out of job.run(inputs, { provenance: true })) {
      if (!out.ok) throw new Error(`task ${out.index}: ${out.error.name}: ${out.error.message}`);
      if (!expected.every((x, i) => out.value[i] === x)) {
        throw new Error(`task ${out.index} (${inputs[out.index].on}): C differs from plain JS`);
      }
      const runMs = out.provenance?.runMs ?? NaN;
      if (out.index === 0) firstGpuMs = runMs;
      else ms[inputs[out.index].on].push(runMs);
    }
    const flops = 2 * n ** 3;
    const gpu = median(ms.gpu);
    const js = median(ms.js);
    const rate = (msEach) => `${fmt(flops / (msEach / 1000) / 1e9, 2)} GFLOP/s`;
    report('webgpu', [
      ['matmul', `${n} × ${n} float32, ${fmt(tasks)} tasks of each kind, 1 tab, 1 thread`],
      ['adapter', 'SwiftShader (software WebGPU, --enable-unsafe-webgpu)'],
      ['WGSL first task', `${fmt(firstGpuMs, 1)} ms (device + pipeline + the product)`],
      ['WGSL per product', `${fmt(gpu, 2)} ms median (${rate(gpu)})`],
      ['plain JS per product', `${fmt(js, 2)} ms median (${rate(js)})`],
      ['WGSL vs JS', `${(js / gpu).toFixed(2)}× (above 1: the shader is faster)`],
      ['checked', `all ${fmt(inputs.length)} products equal plain JS bit for bit`],
    ]);
    return { gpuMs: gpu, jsMs: js };
  } finally {
    await tg.close();
    await browser.close();
    await server.stop();
  }
}

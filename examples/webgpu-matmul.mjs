// Matrix multiplies on volunteers' GPUs: a WGSL compute shader through `tabgrid.gpu()`, checked
// against plain JS. Start the server (`npm start`), open the worker page in a browser with
// WebGPU (Chrome; headless Chromium needs --enable-unsafe-webgpu), then:
//   TABGRID_TOKEN=<token printed by npm start> node examples/webgpu-matmul.mjs
import { Tabgrid } from '@tabgrid/sdk';
import { MATMUL_PROGRAM, integerMatrix, matmulJs } from './webgpu-matmul-program.mjs';

const tg = new Tabgrid({ url: process.env.TABGRID_URL ?? 'http://127.0.0.1:8080' }); // token from TABGRID_TOKEN

// Only tabs that reported a WebGPU adapter at hello get this job's tasks; its code may call
// tabgrid.gpu() because it requires WebGPU (any other job is told to set the requirement).
const job = await tg.createJob({
  name: 'webgpu-matmul',
  requirements: { webgpu: true },
  public: { name: 'Matrix multiply (WebGPU)', description: '128 × 128 float32 products' },
  program: MATMUL_PROGRAM,
});

const n = 128;
const tasks = Array.from({ length: 8 }, (_, t) => ({
  a: integerMatrix(n, 2 * t + 1),
  b: integerMatrix(n, 2 * t + 2),
  n,
}));
// The Float32Arrays travel as bytes (binary frames, transferable buffers in the tab).
let equal = 0;
for await (const out of job.run(tasks)) {
  if (!out.ok) throw new Error(`task ${out.index}: ${out.error.name}: ${out.error.message}`);
  const { a, b } = tasks[out.index];
  const expected = matmulJs(a, b, n);
  // Integer entries: float32 sums are exact, so the GPU and JS agree bit for bit.
  if (expected.every((x, i) => out.value[i] === x)) equal++;
}
console.log(`products equal to plain JS: ${equal} of ${tasks.length}`);
const c = matmulJs(tasks[0].a, tasks[0].b, n);
console.log(`C[0][0..3] of the first: ${Array.from(c.subarray(0, 4)).join(', ')}`);
await tg.close();

/**
 * Issue 16 item 3 with WebGPU: a job that requires WebGPU runs only on the tab whose browser
 * offers an adapter (Chromium with --enable-unsafe-webgpu: SwiftShader, a software adapter),
 * and its WGSL compute shader returns the values plain JS computes; a tab without WebGPU gets
 * none of its tasks.
 */
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import type { TaskOutcome } from '@tabgrid/sdk';
import { gridPerTest } from '../support/grid.js';

const grid = gridPerTest();
let gpuBrowser: Browser | undefined;

test.afterEach(async () => {
  await gpuBrowser?.close();
  gpuBrowser = undefined;
});

/** A worker tab in a Chromium of its own that offers WebGPU (SwiftShader), connected. */
async function openGpuTab(threads: number): Promise<Page> {
  gpuBrowser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--enable-unsafe-webgpu'],
  });
  const tab = await (await gpuBrowser.newContext()).newPage();
  await tab.goto(`${grid.url}/?threads=${threads}`);
  await expect(tab.getByTestId('connection-state')).toHaveText('connected');
  return tab;
}

/** Squares a vector on the GPU: one WGSL compute pass per task, the device made once in Setup. */
const PROGRAM = `
let device;
async function Setup() {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter on this tab');
  device = await adapter.requestDevice();
}
async function Run(values) {
  const data = new Float32Array(values);
  const module = device.createShaderModule({ code: \`
    @group(0) @binding(0) var<storage, read_write> v: array<f32>;
    @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
      if (id.x < arrayLength(&v)) { v[id.x] = v[id.x] * v[id.x]; }
    }\` });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const storage = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const readback = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(storage, 0, data);
  const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: storage } }] });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(Math.ceil(data.length / 64));
  pass.end();
  encoder.copyBufferToBuffer(storage, 0, readback, 0, data.byteLength);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const out = Array.from(new Float32Array(readback.getMappedRange().slice(0)));
  readback.unmap();
  storage.destroy();
  readback.destroy();
  return out;
}`;

test('a job requiring WebGPU runs only on the WebGPU tab, with the values plain JS computes; a tab that only claims WebGPU fails its tries', async () => {
  test.setTimeout(120_000);
  const plain = await grid.openTab('?threads=1'); // the suite's Chromium: --disable-gpu, no adapter
  // A liar: its page claims an adapter (a fake navigator.gpu on the page only), its job threads
  // have none, so its tries fail in Setup and the tasks go elsewhere.
  const liar = await grid.openTab('?threads=1&liar');
  await liar.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'gpu', {
      configurable: true,
      get: () => ({
        requestAdapter: () => Promise.resolve({ limits: {}, info: { isFallbackAdapter: false } }),
      }),
    });
  });
  await liar.reload();
  await expect(liar.getByTestId('connection-state')).toHaveText('connected');

  const job = await grid.tg.createJob({
    name: 'squares-on-gpu',
    requirements: { webgpu: true },
    public: { name: 'Squares on the GPU' },
    maxAttempts: 5,
    program: PROGRAM,
  });
  const inputs = Array.from({ length: 12 }, (_, t) =>
    Array.from({ length: 256 }, (_, i) => (t * 256 + i) / 7),
  );
  const outcomes: TaskOutcome[] = [];
  const run = (async () => {
    for await (const out of job.run(inputs)) outcomes.push(out);
  })();
  await expect
    .poll(async () => Number(await liar.getByTestId('tasks-failed').textContent()), {
      timeout: 30_000,
    })
    .toBeGreaterThan(0);

  const gpuTab = await openGpuTab(1);
  await run;

  expect(outcomes).toHaveLength(inputs.length);
  for (const out of outcomes) {
    if (!out.ok) throw new Error(`task ${out.index} failed: ${out.error.message}`);
    // Plain JS in float32, as the shader computes it.
    const expected = inputs[out.index]!.map((x) => Math.fround(Math.fround(x) * Math.fround(x)));
    expect(out.value).toEqual(expected);
  }
  // The page's counters follow the outcomes it sent on their own tick: wait for them.
  await expect
    .poll(async () =>
      Number((await gpuTab.getByTestId('tasks-done').textContent())?.replace(/,/g, '')),
    )
    .toBe(inputs.length);
  expect(await plain.getByTestId('tasks-done').textContent()).toBe('0');
  expect(await plain.getByTestId('tasks-failed').textContent()).toBe('0');
});

/** The shared matmul job (examples/webgpu-matmul-program.mjs), loaded as the example runs it. */
interface MatmulModule {
  MATMUL_PROGRAM: string;
  matmulJs: (a: Float32Array, b: Float32Array, n: number) => Float32Array;
  integerMatrix: (n: number, seed: number) => Float32Array;
}
const matmulModule = async (): Promise<MatmulModule> =>
  (await import(
    new URL('../../examples/webgpu-matmul-program.mjs', import.meta.url).href
  )) as MatmulModule;

test('tabgrid.gpu(): a WGSL matrix multiply equals plain JS; a job without the requirement is told to set it; a lost device fails its attempts', async () => {
  test.setTimeout(120_000);
  const { MATMUL_PROGRAM, matmulJs, integerMatrix } = await matmulModule();
  await openGpuTab(2);

  const n = 48;
  const inputs = Array.from({ length: 6 }, (_, t) => ({
    a: integerMatrix(n, 2 * t + 1),
    b: integerMatrix(n, 2 * t + 2),
    n,
  }));
  const matmul = await grid.tg.createJob({
    name: 'matmul-on-gpu',
    requirements: { webgpu: true },
    program: MATMUL_PROGRAM,
  });
  const products: TaskOutcome[] = [];
  for await (const out of matmul.run(inputs)) products.push(out);
  expect(products).toHaveLength(inputs.length);
  for (const out of products) {
    if (!out.ok) throw new Error(`task ${out.index} failed: ${out.error.message}`);
    const { a, b } = inputs[out.index]!;
    expect(out.value).toBeInstanceOf(Float32Array);
    // Integer entries: float32 sums are exact, so the GPU's C equals JS's bit for bit.
    expect(Array.from(out.value as Float32Array)).toEqual(Array.from(matmulJs(a, b, n)));
  }

  // A job that did not require WebGPU: tabgrid.gpu() rejects with its code, even on this tab.
  const refusedOutcomes: TaskOutcome[] = [];
  const unasked = await grid.tg.createJob({
    name: 'gpu-not-required',
    program: 'async function Run() { return await tabgrid.gpu(); }',
  });
  for await (const out of unasked.run([0])) refusedOutcomes.push(out);
  expect(refusedOutcomes[0]).toMatchObject({
    ok: false,
    error: {
      name: 'GpuNotRequired',
      message: expect.stringMatching(
        /^TG_ERR_GPU_NOT_REQUIRED: .*requirements: \{ webgpu: true \}/,
      ),
    },
  });

  // A device lost mid-task (destroy() is the one loss a page can cause) fails the attempt as a
  // failed Setup does: it is retried (here on this tab, the only one) until maxAttempts.
  const losing = await grid.tg.createJob({
    name: 'gpu-lost',
    requirements: { webgpu: true },
    maxAttempts: 2,
    program: `async function Run() {
      const device = await tabgrid.gpu();
      device.destroy();
      await device.lost;
      return 'finished without a device';
    }`,
  });
  const lost: TaskOutcome[] = [];
  for await (const out of losing.run([0], { provenance: true })) lost.push(out);
  expect(lost[0]).toMatchObject({
    ok: false,
    provenance: { attempt: 2 },
    error: { name: 'GpuDeviceLost', message: expect.stringMatching(/^TG_ERR_GPU_LOST: /) },
  });
});

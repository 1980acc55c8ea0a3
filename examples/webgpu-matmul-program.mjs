// A matrix multiply as a Tabgrid job: C = A × B for n × n Float32Arrays, on the tab's GPU with a
// WGSL compute shader (`tabgrid.gpu()`), or in plain JS for comparison. Shared by
// examples/webgpu-matmul.mjs, bench/scenarios/webgpu.mjs and e2e/tests/volunteer-webgpu.spec.ts.

/** C[row][col] = Σ_k A[row][k] · B[k][col], one invocation per element of C, k ascending. */
export const MATMUL_WGSL = /* wgsl */ `
struct Dims { n: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n = dims.n;
  if (id.x >= n || id.y >= n) { return; }
  var sum = 0.0;
  for (var k = 0u; k < n; k++) {
    sum = sum + a[id.y * n + k] * b[k * n + id.x];
  }
  c[id.y * n + id.x] = sum;
}`;

/** Plain JS, in float32 like the shader: the reference the GPU's results are checked against. */
export function matmulJs(a, b, n) {
  const c = new Float32Array(n * n);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      let sum = 0;
      for (let k = 0; k < n; k++)
        sum = Math.fround(sum + Math.fround(a[row * n + k] * b[k * n + col]));
      c[row * n + col] = sum;
    }
  }
  return c;
}

/**
 * The job's program: `Run({ a, b, n, on })` returns C as a Float32Array; `on: 'js'` computes it
 * with matmulJs instead of the GPU (the bench's comparison, same inputs, same tab). The device
 * comes from `tabgrid.gpu()` (once per thread), the pipeline is built once per thread, and each
 * task writes its matrices to GPU buffers, dispatches n/8 × n/8 workgroups and reads C back.
 */
export const MATMUL_PROGRAM = `
const WGSL = ${JSON.stringify(MATMUL_WGSL)};
const matmulJs = ${matmulJs.toString()};
let kernel;

/** The device and the compute pipeline, made once per thread. */
async function matmulKernel() {
  if (kernel) return kernel;
  const device = await tabgrid.gpu();
  const module = device.createShaderModule({ code: WGSL });
  const pipeline = await device.createComputePipelineAsync({
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
  });
  kernel = { device, pipeline };
  return kernel;
}

async function Run({ a, b, n, on }) {
  if (on === 'js') return matmulJs(a, b, n);
  const { device, pipeline } = await matmulKernel();
  const bytes = n * n * 4;
  const usage = GPUBufferUsage;
  const bufferA = device.createBuffer({ size: bytes, usage: usage.STORAGE | usage.COPY_DST });
  const bufferB = device.createBuffer({ size: bytes, usage: usage.STORAGE | usage.COPY_DST });
  const bufferC = device.createBuffer({ size: bytes, usage: usage.STORAGE | usage.COPY_SRC });
  const dims = device.createBuffer({ size: 16, usage: usage.UNIFORM | usage.COPY_DST });
  const readback = device.createBuffer({ size: bytes, usage: usage.MAP_READ | usage.COPY_DST });
  // The task's typed arrays go to GPU buffers as they are: no JSON, no copy of our own.
  device.queue.writeBuffer(bufferA, 0, a);
  device.queue.writeBuffer(bufferB, 0, b);
  device.queue.writeBuffer(dims, 0, new Uint32Array([n, 0, 0, 0]));
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [bufferA, bufferB, bufferC, dims].map((buffer, binding) => ({
      binding,
      resource: { buffer },
    })),
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(Math.ceil(n / 8), Math.ceil(n / 8));
  pass.end();
  encoder.copyBufferToBuffer(bufferC, 0, readback, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const c = new Float32Array(readback.getMappedRange().slice(0));
  readback.unmap();
  for (const buffer of [bufferA, bufferB, bufferC, dims, readback]) buffer.destroy();
  return c;
}`;

/**
 * An n × n matrix of small integers (from a seed): float32 products and sums of them are exact,
 * so GPU and JS agree to the last bit whatever order or fused multiply-add the GPU uses.
 */
export function integerMatrix(n, seed) {
  const m = new Float32Array(n * n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < m.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    m[i] = ((x >>> 0) % 17) - 8;
  }
  return m;
}

import { VOLUNTEER_LIMITS, type WorkerCapabilities } from '@tabgrid/protocol/jobs';

/** WebGPU as far as this page looks at it (no @webgpu/types needed for two calls). */
interface GpuAdapterLike {
  limits?: object;
  isFallbackAdapter?: boolean;
  info?: { isFallbackAdapter?: boolean };
}
interface GpuLike {
  requestAdapter(): Promise<GpuAdapterLike | null>;
}

/** How long the adapter request may take before the tab says it has none. */
const ADAPTER_TIMEOUT_MS = 3_000;

/** The adapter's numeric limits by name (its limits are getters on a prototype). */
function limitsOf(limits: object | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!limits) return out;
  let n = 0;
  for (const name in limits) {
    const value = (limits as Record<string, unknown>)[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) continue;
    if (name.length > VOLUNTEER_LIMITS.maxGpuLimitNameLength) continue;
    if (n++ >= VOLUNTEER_LIMITS.maxGpuLimits) break;
    out[name] = value;
  }
  return out;
}

/**
 * What this tab offers besides threads, for `hello.capabilities`: device memory where the
 * browser exposes it, and whether a WebGPU adapter exists (a software one says so). Never
 * throws; a browser without WebGPU (or one that hangs in requestAdapter) offers none.
 */
export async function detectCapabilities(
  nav: Navigator = navigator,
  timeoutMs = ADAPTER_TIMEOUT_MS,
): Promise<WorkerCapabilities> {
  const capabilities: WorkerCapabilities = {};
  const memory = (nav as Navigator & { deviceMemory?: unknown }).deviceMemory;
  if (typeof memory === 'number' && Number.isFinite(memory) && memory >= 0) {
    capabilities.deviceMemoryGb = Math.min(memory, VOLUNTEER_LIMITS.maxDeviceMemoryGb);
  }
  const gpu = (nav as Navigator & { gpu?: GpuLike }).gpu;
  if (!gpu) return capabilities;
  try {
    const adapter = await Promise.race([
      gpu.requestAdapter(),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs)),
    ]);
    if (adapter) {
      const fallback = adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
      capabilities.webgpu = { fallback: fallback === true, limits: limitsOf(adapter.limits) };
    }
  } catch (error) {
    console.warn('[tabgrid] WebGPU adapter request failed; offering no GPU:', error);
  }
  return capabilities;
}

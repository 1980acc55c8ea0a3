/**
 * Part of the thread runtime shipped as source text (see thread-source.ts): self-contained, it
 * may use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { CapturedNatives } from './captured-natives.js';

interface GpuLostInfo {
  reason?: unknown;
  message?: unknown;
}
interface GpuDeviceLike {
  lost: Promise<GpuLostInfo>;
}
interface GpuAdapterLike {
  requestDevice(): Promise<GpuDeviceLike>;
}
interface GpuLike {
  requestAdapter(): Promise<GpuAdapterLike | null>;
}

/**
 * `tabgrid.gpu()`: the thread's one `GPUDevice`, requested in this thread (navigator.gpu of the
 * worker) the first time job code asks, for jobs that require WebGPU only. The hello's WebGPU
 * claim was the page's; here it is tested: a thread that cannot produce a device, or whose
 * device is lost, fails the task it runs and the rest of its chunk with {@link failure}, an
 * error of phase `setup`, which the server treats as a failed Setup: the attempt is spent and
 * the task runs elsewhere (this connection gets no more of the job while another can take it).
 * The thread's next chunk asks for a device again ({@link newChunk}).
 */
export function taskGpu(natives: CapturedNatives) {
  const { stringify, slice, NativeError, NativePromise } = natives;
  // Taken before job code runs, like every native the runtime calls later.
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  const gpuObject = nav?.gpu;
  const requestAdapter =
    gpuObject && typeof gpuObject.requestAdapter === 'function'
      ? gpuObject.requestAdapter.bind<() => Promise<GpuAdapterLike | null>>(gpuObject)
      : undefined;
  /** TG_ERR_GPU_* codes: documented in the README's `tabgrid` section (a test keeps them). */
  const NOT_REQUIRED = 'TG_ERR_GPU_NOT_REQUIRED';
  const UNAVAILABLE = 'TG_ERR_GPU_UNAVAILABLE';
  const LOST = 'TG_ERR_GPU_LOST';

  let required = false;
  let pending: Promise<GpuDeviceLike> | undefined;
  /** The error JSON (phase setup) every task of this thread fails with from now on; '' if none. */
  let failed = '';
  let failedName = '';
  let failedCode = '';
  let failedWhy = '';

  function coded(name: string, code: string, message: string): Error {
    const error = new NativeError(code + ': ' + message);
    error.name = name;
    (error as Error & { code: string }).code = code;
    return error;
  }

  function fail(name: string, code: string, message: string): Error {
    if (failed === '') {
      failedName = name;
      failedCode = code;
      failedWhy = message;
      failed = stringify({ name, message: code + ': ' + message, stack: '', phase: 'setup' });
    }
    return coded(failedName, failedCode, failedWhy);
  }

  function textOf(value: unknown): string {
    return typeof value === 'string' ? slice(value, 0, 500) : '';
  }

  async function request(): Promise<GpuDeviceLike> {
    const where = 'this tab offered WebGPU, but its job thread ';
    if (requestAdapter === undefined) {
      throw fail('GpuUnavailable', UNAVAILABLE, where + 'has no navigator.gpu; it runs elsewhere');
    }
    let device: GpuDeviceLike;
    try {
      const adapter = await requestAdapter();
      if (!adapter) throw new NativeError('requestAdapter() gave no adapter');
      device = await adapter.requestDevice();
    } catch (error) {
      const why = textOf((error as { message?: unknown } | null)?.message);
      throw fail('GpuUnavailable', UNAVAILABLE, where + 'got no device (' + why + ')');
    }
    void device.lost.then((info: GpuLostInfo) => {
      let why = '';
      try {
        why = textOf(info.reason) + (textOf(info.message) ? ': ' + textOf(info.message) : '');
      } catch {
        // A lost-info object that throws on reading still means the device is gone.
      }
      fail('GpuDeviceLost', LOST, 'the GPU device was lost (' + why + '); the task runs elsewhere');
    });
    return device;
  }

  /** `tabgrid.gpu()` of job code. */
  function gpu(): Promise<GpuDeviceLike> {
    if (!required) {
      return NativePromise.reject(
        coded(
          'GpuNotRequired',
          NOT_REQUIRED,
          'tabgrid.gpu() is for jobs that require WebGPU: create the job with ' +
            "requirements: { webgpu: true } (or 'hardware'), so that only tabs with WebGPU get its tasks",
        ),
      );
    }
    if (failed !== '') return NativePromise.reject(coded(failedName, failedCode, failedWhy));
    pending ??= request();
    return pending;
  }

  /** The job loaded on this thread requires WebGPU (its `requirements.webgpu`). */
  function setRequired(value: boolean): void {
    required = value;
  }

  /** The failure every task of this thread gets from now on (error JSON, phase setup); or ''. */
  function failure(): string {
    return failed;
  }

  /**
   * A new chunk begins: a thread whose device failed asks again when a task next calls
   * `tabgrid.gpu()` (a lost device is usually a GPU reset; the tasks it failed run elsewhere).
   */
  function newChunk(): void {
    if (failed === '') return;
    failed = '';
    pending = undefined;
  }

  /** Job code asked for the device (a task that threw may have lost it: look once more). */
  function requested(): boolean {
    return pending !== undefined;
  }

  return { gpu, setRequired, failure, requested, newChunk };
}

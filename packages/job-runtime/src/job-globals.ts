/**
 * Types of what job code finds on its global (`tabgrid`, installed by task-api.ts), for job
 * programs written in TypeScript or checked with `// @ts-check`:
 *
 * @example
 * /// <reference types="@tabgrid/job-runtime/globals" />
 * async function Run(input: { a: Float32Array; b: Float32Array; n: number }) {
 *   const device = await tabgrid.gpu(); // a GPUDevice (with @webgpu/types loaded)
 *   // …
 * }
 *
 * Types only: this module has no runtime value.
 */

/**
 * `GPUDevice` where the program's types know it (`@webgpu/types`, or a TypeScript lib that has
 * WebGPU); else `unknown`, so this package needs no WebGPU types of its own.
 */
export type TabgridGpuDevice = typeof globalThis extends { GPUDevice: { prototype: infer D } }
  ? D
  : unknown;

/** The codes of the errors `tabgrid.gpu()` gives (as `error.code`, and first in the message). */
export type TabgridGpuErrorCode =
  /** The job did not require WebGPU: create it with `requirements: { webgpu: true }`. */
  | 'TG_ERR_GPU_NOT_REQUIRED'
  /** This tab claimed WebGPU, but its job thread got no adapter or device: the task runs elsewhere. */
  | 'TG_ERR_GPU_UNAVAILABLE'
  /** The thread's device was lost (`device.lost`; `device.destroy()` too): the task runs elsewhere. */
  | 'TG_ERR_GPU_LOST';

/** The `tabgrid` global of job code. */
export interface TabgridJobGlobal {
  /** This task's progress, 0 to 1 (nothing: "alive"); reported at most every few hundred ms. */
  progress(fraction?: number): void;
  /** Adds `value` to this task's series `label` (returned with its outcome). */
  collect(label: string, value: unknown): void;
  /** An event of this task, streamed to the job's owner as it happens. */
  emit(name: string, data?: unknown): void;
  /** Calls `handler` with every `job.tell()` message, the ones so far first; returns an unsubscribe. */
  listen(handler: (data: unknown, seq: number) => void): () => void;
  /** The next `job.tell()` message this thread has not read yet. */
  next(): Promise<unknown>;
  /**
   * The thread's GPUDevice, requested once per thread (in the job thread) and shared by its
   * tasks, for jobs created with `requirements: { webgpu: true }` (or `'hardware'`). Rejects with
   * code `TG_ERR_GPU_NOT_REQUIRED` for other jobs. When the thread cannot get a device or loses
   * it, the task fails as a failed Setup does (`TG_ERR_GPU_UNAVAILABLE`, `TG_ERR_GPU_LOST`):
   * the attempt is spent and the task runs on another tab.
   */
  gpu(): Promise<TabgridGpuDevice>;
}

declare global {
  /** The Tabgrid task API of job code (see TabgridJobGlobal). */
  var tabgrid: TabgridJobGlobal;
}

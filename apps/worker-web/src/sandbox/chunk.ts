import type { ThreadTask } from '@tabgrid/job-runtime/sandbox-protocol';
import type { JobPublic } from '@tabgrid/protocol/jobs';

/** A job as this page knows it. `key` is unique per `job` frame, so a reconnect never reuses it. */
export interface LocalJob {
  key: number;
  jobId: string;
  program: string;
  args: unknown;
  timeoutMs: number;
  /** Bounds one Setup call (the job's timeoutMs unless the job says otherwise). */
  setupTimeoutMs: number;
  /** Set: the page reports when each task starts running (the server's progress clock). */
  progressTimeoutMs?: number;
  /** `job.tell()` messages so far, in seq order: threads loading the job later get them too. */
  messages: { seq: number; json: string }[];
  /**
   * The server said the job's series are full (the error `tabgrid.collect` throws from now
   * on; '' until then): threads loading the job later are told at once.
   */
  seriesFull: string;
  /** A Setup outran setupTimeoutMs here: the error JSON every later task of the job fails with. */
  setupFailure?: string;
  /** The job's public name, description and link, when its owner gave them (issue 16). */
  public?: JobPublic;
  /** The job requires WebGPU: its code may call `tabgrid.gpu()` (issue 16). */
  webgpu: boolean;
  /**
   * Its tasks came in binary frames: their inputs hold typed arrays as they are, so chunks go to
   * threads as arrays (structured clone), not JSON text (issue 18).
   */
  liveInputs?: boolean;
}

/** Consecutive tasks of one job handed to one thread. */
export interface Chunk {
  job: LocalJob;
  tasks: ThreadTask[];
  /** Flush after every task, so a timeout names exactly the task that hung. */
  exact: boolean;
}

/** The shapes a connection's TaskExecutor (./task-executor.ts) works with. */
import type { Behavior } from './behavior.js';
import type { JobLifecycle } from './job-lifecycle.js';
import type { CompiledProgram } from './program-cache.js';
import type { Rng } from './random.js';
import type { SimWorkerStats } from './stats.js';
import type { TaskTel } from './task-api.js';

/** A task by its id, as the server knows it. */
export interface TaskRef {
  jobId: string;
  index: number;
}

export interface LocalJob {
  readonly jobId: string;
  readonly program: CompiledProgram;
  readonly timeoutMs: number;
  /** The page reports `started` for each task of such a job. */
  readonly progressTimeoutMs: number | undefined;
  /** Setup, Teardown, messages: programs that use the task model only. */
  readonly life: JobLifecycle | undefined;
  cancelled: boolean;
}

export interface Pending {
  readonly job: LocalJob;
  readonly index: number;
  readonly input: unknown;
  /** The simulated thread it runs on (task-model programs only), and its context there. */
  slot?: number;
  tel?: TaskTel;
}

/** What an executor needs from the worker that owns it. */
export interface ExecutorHost {
  /** Read on every use: behavior patches apply at once. */
  behavior(): Readonly<Behavior>;
  readonly rng: Rng;
  readonly stats: SimWorkerStats;
  readonly threads: number;
  /** Liars with equal keys tell equal lies. */
  readonly lieKey: string;
  /** Monitor `sample` period (ms), 0 or absent: none. */
  readonly sampleMs?: number;
  send(frame: string): void;
}

/** What ran since the last monitor sample (see SimWorker's `sample` frames). */
export interface BusySince {
  busyMs: number;
  tasks: number;
  jobs: Map<string, number>;
}

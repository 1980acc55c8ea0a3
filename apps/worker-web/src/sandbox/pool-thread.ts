import type { Chunk, LocalJob } from './chunk';
import type { ThreadWatchdog } from './thread-watchdog';

/** A job thread as the pool keeps it. */
export interface PoolThread {
  workerId: number;
  port: MessagePort;
  ready: boolean;
  loaded: boolean;
  /** The loaded program defines Teardown: leaving the job waits for it (thread-lifecycle.ts). */
  hasTeardown: boolean;
  /** Setup runs (between `loaded` of a program with Setup and `setup`): setupTimeoutMs applies. */
  setupPending: boolean;
  /** Compute time reported since the monitor last asked (monitor-sampler.ts). */
  busyMs: number;
  /**
   * The job whose program this thread's realm has evaluated; never changes for a realm. The
   * only job whose outcomes this thread may report.
   */
  job: LocalJob | undefined;
  chunk: (Chunk & { chunkId: number }) | undefined;
  /** When the chunk was handed over. */
  dispatchedAt: number;
  /** A `stop` was sent for the chunk: its rest is coming back. */
  stopping: boolean;
  /** Compute time of the chunk's reported tasks. */
  chunkMs: number;
  /** How many of the chunk's tasks have been reported. */
  reported: number;
  /** The CPU cap's rest: no new chunk before this time (performance.now()). */
  restUntil: number;
  /** How much later than `restUntil` it last got work: taken off its next rest. */
  overslept: number;
  watchdog: ThreadWatchdog;
}

export function unreported(thread: PoolThread): number {
  return thread.chunk ? thread.chunk.tasks.length - thread.reported : 0;
}

/** The chunk's work left, estimated from its reported tasks. */
export function remainingMs(thread: PoolThread): number {
  return thread.reported > 0 ? (unreported(thread) * thread.chunkMs) / thread.reported : 0;
}

/** The thread's compute time since the last call (the monitor's busy time). */
export function takeBusyMs(thread: PoolThread): number {
  const busy = thread.busyMs;
  thread.busyMs = 0;
  return busy;
}

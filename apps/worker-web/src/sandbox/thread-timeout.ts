import type { Chunk } from './chunk';
import { timeoutOutcome } from './page-made-outcomes';
import type { PoolThread } from './pool-thread';
import { setupFailedOutcomes, setupTimeoutError } from './thread-lifecycle';

/**
 * Time limit per task when re-running suspects. The hung task already ran past the job's
 * timeoutMs in the first run (the tasks finished but unflushed before it took under a flush
 * interval), so the re-run only has to find which one it is, and quickly: the server counts
 * a tab silent for its longest job timeout plus a grace period as stalled.
 */
export const SUSPECT_TIMEOUT_MS = 2_000;

export interface TimeoutVerdict {
  /** Outcomes the page makes for the tasks it blames (joined by commas), all failures. */
  outcomes: string;
  count: number;
  ms: number;
  /** The rest must re-run exactly (which task hung is not certain). */
  suspect: boolean;
}

/**
 * A started thread's watchdog fired: which of its chunk's tasks fail, and how. Marks them
 * reported; the pool sends the outcomes, re-queues the rest and replaces the thread.
 */
export function timeoutVerdict(
  thread: PoolThread,
  chunk: Chunk & { chunkId: number },
  now: number,
): TimeoutVerdict {
  const { job } = chunk;
  if (thread.setupPending) {
    // Setup never finished: every task of the chunk fails as `setup`, and so do the job's
    // later tasks on this page (each fresh thread would wait out the same Setup again).
    job.setupFailure = setupTimeoutError(job);
    const rest = { job, tasks: chunk.tasks.slice(thread.reported), exact: false };
    thread.reported = chunk.tasks.length;
    const outcomes = setupFailedOutcomes(job, rest, job.setupFailure);
    return { outcomes, count: rest.tasks.length, ms: 0, suspect: false };
  }
  const unreported = chunk.tasks.length - thread.reported;
  // Outcomes are flushed every few ms, so tasks that finished just before the hang may be
  // unreported too. Blame the first unreported task only when that is certain (exact chunk,
  // a single task, or a program that never finished loading); otherwise re-run them exactly.
  const certain = chunk.exact || unreported === 1 || !thread.loaded;
  const task = chunk.tasks[thread.reported];
  if (!certain || !task) return { outcomes: '', count: 0, ms: 0, suspect: !certain };
  // A suspect re-run stops early; the first run already took the job's whole timeoutMs.
  const elapsed = Math.round(now - thread.watchdog.lastProgress);
  const ms = Math.max(0, elapsed, chunk.exact ? job.timeoutMs : 0);
  thread.reported += 1;
  return {
    outcomes: timeoutOutcome(job, task.index, ms, thread.loaded),
    count: 1,
    ms,
    suspect: false,
  };
}

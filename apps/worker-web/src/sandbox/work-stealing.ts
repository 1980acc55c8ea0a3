import { remainingMs, unreported, type PoolThread } from './pool-thread';

/**
 * Work stealing: when a thread idles with nothing queued while another has run one chunk
 * this long, that chunk is stopped early and its rest shared out again. Chunks are sized
 * from the tasks timed so far, which can mislead (Mandelbrot rows: the first ones are nearly
 * free, the middle ones cost ~60 ms), so this is what keeps every thread busy until the end.
 */
export const STEAL_AFTER_MS = 5;
/**
 * Stealing ahead: once the queue is empty, a chunk with at least this much work left (by its
 * own tasks' timings so far) is split even before a thread idles, so that the thread which
 * runs out next finds the rest already queued instead of waiting for the stop to land.
 */
export const STEAL_AHEAD_MS = 40;

/**
 * The thread whose chunk to stop so its rest can be shared out: the one with the most
 * unreported tasks in a chunk older than STEAL_AFTER_MS (`ahead`: only a chunk with
 * STEAL_AHEAD_MS of work left, by its own timings). `wait`: when a young chunk is old enough.
 */
export function pickVictim(
  threads: readonly PoolThread[],
  ahead: boolean,
  now: number,
): { victim: PoolThread | undefined; wait: number } {
  let victim: PoolThread | undefined;
  let wait = Infinity;
  for (const thread of threads) {
    const chunk = thread.chunk;
    if (!chunk || chunk.exact || thread.stopping) continue;
    if (unreported(thread) < 2) continue;
    if (ahead && !(thread.reported > 0 && remainingMs(thread) >= STEAL_AHEAD_MS)) continue;
    const age = now - thread.dispatchedAt;
    if (age < STEAL_AFTER_MS) wait = Math.min(wait, STEAL_AFTER_MS - age);
    else if (!victim || unreported(thread) > unreported(victim)) victim = thread;
  }
  return { victim, wait };
}

/**
 * Time and chance, injected: the core never calls `Date.now`, `setTimeout`, `setInterval` or
 * `Math.random` itself, so a test can hand it a fake clock and a seeded random source and
 * assert the delays it chooses (retry backoff, lease expiry, stall checks).
 */

/** A pending timer; `cancel` is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms`; never keeps the process alive by itself. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Runs `fn` every `ms`; never keeps the process alive by itself. */
  setInterval(fn: () => void, ms: number): TimerHandle;
}

/** Random numbers in [0, 1). */
export type RandomSource = () => number;

/**
 * The real clock. Each call reads the global timers at call time (not bound once), so tests
 * that fake them with `vi.useFakeTimers` still steer it.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
  setInterval(fn, ms) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
};

export const systemRandom: RandomSource = () => Math.random();

import type { PoolThread } from './pool-thread';
import { createRestTimer, type RestTimer } from './rest-timer';

/**
 * The volunteer's CPU cap as a duty cycle per thread: after a chunk that kept a thread busy for
 * `t` ms (from hand-over to its last outcome), it rests `t * (1 / duty - 1)` ms before its next
 * one (duty 0.5: as long as it ran). The pool asks {@link resting} before handing a thread a
 * chunk and calls {@link chunkDone} after; the earliest rest's end pumps the pool again.
 */
/** Most oversleep credited to the next rest: a tab that slept for minutes owes nothing back. */
const MAX_CREDITED_MS = 1_000;

export class DutyCycle {
  private duty = 1;
  /** When the earliest resting thread wakes, while a wake-up is pending. */
  private wakeAt = Infinity;

  constructor(
    /** Called when a rest ends: the pool's pump. */
    private readonly wake: () => void,
    private readonly timer: RestTimer = createRestTimer(),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The share of each thread's time it may run tasks, 0.01 to 1. */
  set(duty: number): void {
    this.duty = Math.min(1, Math.max(0.01, duty));
  }

  resting = (thread: PoolThread): boolean => {
    if (this.duty >= 1) return false;
    const now = this.now();
    if (thread.restUntil > now) {
      this.wakeUpAt(thread.restUntil);
      return true;
    }
    // A late timer (a busy machine) rested it longer than owed: the next rest is that much shorter.
    if (thread.restUntil > 0) thread.overslept = Math.min(MAX_CREDITED_MS, now - thread.restUntil);
    thread.restUntil = 0;
    return false;
  };

  chunkDone = (thread: PoolThread): void => {
    if (this.duty >= 1) return;
    const now = this.now();
    const owed = (now - thread.dispatchedAt) * (1 / this.duty - 1);
    thread.restUntil = now + Math.max(0, owed - thread.overslept);
    thread.overslept = 0;
  };

  private wakeUpAt(at: number): void {
    if (at >= this.wakeAt) return;
    this.wakeAt = at;
    this.timer.after(at - this.now(), () => {
      if (this.wakeAt !== at) return; // an earlier wake-up replaced this one
      this.wakeAt = Infinity;
      this.wake();
    });
  }
}

/**
 * Time that moves only when a test says so, and a seeded random source: with them, a test
 * asserts the delays the core chooses (retry backoff, lease expiry) instead of sleeping.
 */
import type { Clock, RandomSource, TimerHandle } from '../clock.js';

interface FakeTimer {
  at: number;
  /** Repeats every this many ms (setInterval), or undefined (setTimeout). */
  every: number | undefined;
  /** The delay it was set with. */
  delay: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private time: number;
  private readonly timers: FakeTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, ms);
  }

  /** The delays of pending one-shot timers, in the order they were set. */
  pendingTimeouts(): number[] {
    return this.timers.filter((t) => !t.cancelled && t.every === undefined).map((t) => t.delay);
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const timer of this.timers) {
        if (!timer.cancelled && timer.at <= end && (!next || timer.at < next.at)) next = timer;
      }
      if (!next) break;
      this.time = next.at;
      if (next.every === undefined) next.cancelled = true;
      else next.at += next.every;
      next.fn();
    }
    this.time = end;
    for (let i = this.timers.length - 1; i >= 0; i--) {
      if (this.timers[i]!.cancelled) this.timers.splice(i, 1);
    }
  }

  private add(fn: () => void, ms: number, every: number | undefined): TimerHandle {
    const timer: FakeTimer = { at: this.time + ms, every, delay: ms, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }
}

/** A deterministic source of numbers in [0, 1) (mulberry32): the same seed, the same draws. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

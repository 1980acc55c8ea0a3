import { WORKER_LIMITS } from '@tabgrid/protocol/worker';

/** Slots per thread before any task has been timed: modest, in case the tasks are slow. */
export const FIRST_SLOTS_PER_THREAD = 64;
/** Never fewer: a thread must have its next task here while it runs the current one. */
export const MIN_SLOTS_PER_THREAD = 2;
/** Never more, however tiny the tasks: bounds memory and what a closing tab hands back. */
export const MAX_SLOTS_PER_THREAD = 4096;
/**
 * Work to hold per thread, queued or running. It has to cover a round trip to the server
 * with room to spare so threads never idle, and stay small so a tab does not hoard slow tasks
 * that other tabs could be running.
 */
export const HELD_MS_PER_THREAD = 250;

/** How many slots a thread should hold for tasks that take `avgMs` each. */
export function slotsPerThread(avgMs: number | undefined): number {
  if (avgMs === undefined) return FIRST_SLOTS_PER_THREAD;
  const slots = Math.floor(HELD_MS_PER_THREAD / Math.max(avgMs, 1e-3));
  return Math.max(MIN_SLOTS_PER_THREAD, Math.min(MAX_SLOTS_PER_THREAD, slots));
}

/**
 * The tab's credit books: how many slots are granted to the server (used by it or held here
 * as tasks), sized to the measured task duration. Tiny tasks get thousands of slots, so the
 * page hands its threads big chunks and crosses processes rarely; slow tasks get a few, so
 * the work spreads across tabs. Slots coming back above the target are simply not granted
 * again; below it, the difference is granted with the next frame. Paused, the target is 0.
 */
export class CreditBook {
  private circulating = 0;
  private avgMs: number | undefined;
  paused = false;
  /** The CPU cap as a duty cycle (0.5: threads run half the time): capped tabs hold less. */
  duty = 1;

  constructor(private threads: number) {}

  /** Slots this tab wants in circulation now (never more than the server takes in one grant). */
  get target(): number {
    if (this.paused) return 0;
    // A capped thread takes 1/duty times as long per task, so it holds that many fewer.
    const perTask = this.avgMs === undefined ? undefined : this.avgMs / this.duty;
    return Math.min(WORKER_LIMITS.maxCredit, this.threads * slotsPerThread(perTask));
  }

  /** A (re)connection: the server starts from zero. Returns the credit to announce in hello. */
  open(threads: number): number {
    this.threads = threads;
    this.circulating = this.target;
    return this.circulating;
  }

  /** The connection is gone, and with it every slot. */
  close(): void {
    this.circulating = 0;
  }

  /**
   * `slots` came back (their tasks finished, were released or dropped, or credit was taken
   * back before it was sent). Returns how many to grant the server now.
   */
  returned(slots: number): number {
    // Never below zero, even if a (buggy) server sent more tasks than it was granted.
    this.circulating = Math.max(0, this.circulating - slots);
    return this.topUp();
  }

  /** Slots to grant so the circulation reaches the target (0 when at or above it). */
  topUp(): number {
    const missing = this.target - this.circulating;
    if (missing <= 0) return 0;
    this.circulating += missing;
    return missing;
  }

  /** Learns the tasks' duration from `count` outcomes that took `ms` of compute in all. */
  recordTiming(count: number, ms: number): void {
    if (count <= 0) return;
    const perTask = ms / count;
    this.avgMs = this.avgMs === undefined ? perTask : this.avgMs * 0.8 + perTask * 0.2;
  }
}

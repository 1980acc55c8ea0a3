/**
 * A simulated tab's monitor (plan-13 §4.2's monitor-sampler, in the fleet): every `sampleMs`
 * a `sample` frame of what its threads did since the last one, sent only after some task ran.
 */
import { TASK_LIMITS } from '@tabgrid/protocol/task-reports';
import type { ReportLies } from './behavior.js';
import type { BusySince } from './executor-types.js';
import { sampleFrame } from './frames.js';

/**
 * Starts sampling; `read` says what ran (false: the connection is gone, stop; undefined: skip
 * this tick, as a frozen worker does). Returns the timer (unref'd), or undefined for `sampleMs` 0.
 */
export function startSampler(
  sampleMs: number,
  threads: number,
  read: () => false | undefined | { busy: BusySince | undefined; lies: ReportLies | undefined },
  send: (frame: string) => void,
): NodeJS.Timeout | undefined {
  if (sampleMs === 0) return undefined;
  let last = performance.now();
  const timer = setInterval(() => {
    const state = read();
    if (state === false) {
      clearInterval(timer);
      return;
    }
    if (!state?.busy) return;
    const at = performance.now();
    const intervalMs = Math.min(600_000, Math.max(100, at - last));
    last = at;
    send(sampleFrame(threads, intervalMs, state.busy, state.lies));
  }, sampleMs);
  timer.unref();
  return timer;
}

/** A worker's `sampleMs` option, checked; default TASK_LIMITS.sampleMs (a tab's 5 s). */
export function checkSampleMs(sampleMs: number = TASK_LIMITS.sampleMs): number {
  if (!(Number.isFinite(sampleMs) && (sampleMs === 0 || sampleMs >= 100))) {
    throw new RangeError(`sampleMs must be 0 (off) or at least 100, got ${sampleMs}.`);
  }
  return sampleMs;
}

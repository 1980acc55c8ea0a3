import type { Outcome } from '@tabgrid/protocol/jobs';
import { storedFailure, storedValue } from '@tabgrid/protocol/stored';
import type { StoredOutcome } from '../store/job-store.js';

/**
 * A packed result (typed arrays) heavier than this is not kept in the window: streams read it
 * from the store (the window is 20,000 outcomes; of 4 MB each, that would be 80 GB).
 */
export const RECENT_MAX_PACKED = 64 * 1024;

/**
 * A job's in-memory window of durable outcomes (what live streams read) with just-committed
 * `stored` added (seq order; `settled[i].value` is the parsed value when the caller had it), packed results
 * over RECENT_MAX_PACKED left out (a gap).
 * A gap in seqs starts the window again; past `max` it keeps its newest half. Throws when a
 * payload does not parse (the caller then empties the window). Appends to `recent` in place.
 */
export function withRecent(
  recent: Outcome[],
  stored: readonly StoredOutcome[],
  settled: readonly { value?: unknown }[],
  max: number,
): Outcome[] {
  const first = stored[0];
  if (!first) return recent;
  const last = recent[recent.length - 1];
  let window = last && last.seq + 1 !== first.seq ? [] : recent;
  for (let i = 0; i < stored.length; i++) {
    const o = stored[i]!;
    if (typeof o.payload !== 'string' && o.payload.length > RECENT_MAX_PACKED) {
      window = []; // a gap: what follows starts a new window
      continue;
    }
    // A packed value's typed arrays as views into its own bytes (not the worker's whole frame).
    const value = typeof o.payload === 'string' ? settled[i]?.value : undefined;
    window.push(
      o.ok
        ? {
            seq: o.seq,
            index: o.index,
            ok: true,
            value: value === undefined ? storedValue(o.payload) : value,
          }
        : { seq: o.seq, index: o.index, ok: false, error: storedFailure(o.payload) },
    );
  }
  return window.length > max ? window.slice(-max / 2) : window;
}

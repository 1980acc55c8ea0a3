/**
 * Seeded randomness, so a fleet run can be replayed: every worker draws from its own stream
 * (fleet seed + worker index), and per-task decisions that must agree across workers (which
 * tasks a liar lies about, and how) come from a hash of the task instead of a stream.
 */

/** A duration in ms: fixed, or drawn uniformly from `[min, max]` each time it is used. */
export type Range = number | readonly [min: number, max: number];

/** A small fast PRNG (mulberry32): uniform floats in [0, 1). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && (p >= 1 || this.next() < p);
  }

  /** A value of `range`, in whole ms. */
  pick(range: Range): number {
    if (typeof range === 'number') return range;
    const [min, max] = range;
    return Math.round(min + (max - min) * this.next());
  }

  /** Waiting time to the next event of a Poisson process with `ratePerSecond` (ms). */
  exponentialMs(ratePerSecond: number): number {
    return (-Math.log(1 - this.next()) / ratePerSecond) * 1000;
  }
}

/** FNV-1a over the text, then a final avalanche: a well-spread 32-bit hash. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Checks a {@link Range} given by a user; throws a RangeError naming `what`. */
export function checkRange(range: Range, what: string): void {
  const [min, max] = typeof range === 'number' ? [range, range] : range;
  if (!Number.isFinite(min) || !Number.isFinite(max) || min < 0 || max < min) {
    throw new RangeError(
      `${what} must be a number of ms ≥ 0 or a [min, max] range with 0 ≤ min ≤ max, got ${JSON.stringify(range)}.`,
    );
  }
}

/** Checks a probability given by a user; throws a RangeError naming `what`. */
export function checkProbability(p: number, what: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${what} must be between 0 and 1, got ${p}.`);
}

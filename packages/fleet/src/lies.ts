import type { Behavior } from './behavior.js';
import { hash32 } from './random.js';
import type { SimWorkerStats } from './stats.js';

/**
 * `value`, or the lie a `wrongResults` worker tells about task (`jobId`, `index`) instead
 * (counted in `stats.lies`).
 */
export function lieAbout(
  value: unknown,
  jobId: string,
  index: number,
  worker: { behavior(): Readonly<Behavior>; lieKey: string; stats: SimWorkerStats },
): unknown {
  const lies = worker.behavior().wrongResults;
  if (!lies) return value;
  const options = lies === true ? {} : lies;
  const seed = lieSeed(jobId, index, options.collude ?? worker.lieKey, options.rate ?? 1);
  if (seed === undefined) return value;
  worker.stats.lies++;
  return corrupt(JSON.parse(JSON.stringify(value) ?? 'null'), seed);
}

/**
 * Whether a liar with key `collude` lies about task (`jobId`, `index`), and if so the seed of
 * its lie; undefined when it tells the truth. Pure: the same inputs give the same answer in
 * every worker, which is what lets colluding liars agree.
 *
 * @example
 * lieSeed('job-1', 7, 'gang', 1); // a number: lie about it
 * lieSeed('job-1', 7, 'gang', 0); // undefined: tell the truth
 */
export function lieSeed(
  jobId: string,
  index: number,
  collude: string,
  rate: number,
): number | undefined {
  if (rate <= 0) return undefined;
  const h = hash32(`${collude}\u0000${jobId}\u0000${index}`);
  // The low bits decide whether to lie, the high bits shape the lie.
  if (rate < 1 && (h & 0xffff) / 0x10000 >= rate) return undefined;
  return h >>> 16;
}

/**
 * A JSON value that differs from `value` (as JSON) in one place chosen by `seed`: a number
 * shifted, a string suffixed, a boolean flipped, one element of an array or one property of an
 * object corrupted in turn. Deterministic in (`value`, `seed`). Expects a plain JSON value.
 *
 * @example
 * corrupt(42, 5);                // 48
 * corrupt({ a: 1, b: 'x' }, 1);  // { a: 1, b: 'x#…' }: one property changed
 */
export function corrupt(value: unknown, seed: number): unknown {
  if (value === null || value === undefined) return seed;
  switch (typeof value) {
    case 'boolean':
      return !value;
    case 'number': {
      const shifted = value + 1 + (seed % 997);
      // Large magnitudes swallow a small shift.
      return shifted !== value && Number.isFinite(shifted) ? shifted : value === 0 ? 1 : -value;
    }
    case 'string':
      return `${value}#${seed.toString(36)}`;
    case 'object': {
      const next = hash32(String(seed));
      if (Array.isArray(value)) {
        if (value.length === 0) return [seed];
        const copy: unknown[] = value.slice();
        const at = seed % copy.length;
        copy[at] = corrupt(copy[at], next);
        return copy;
      }
      const record = value as Record<string, unknown>;
      // Sorted, so liars pick the same property whatever order the object was built in.
      const keys = Object.keys(record).sort();
      const key = keys[seed % Math.max(1, keys.length)];
      if (key === undefined) return { lie: seed };
      return { ...record, [key]: corrupt(record[key], next) };
    }
    default:
      return seed;
  }
}

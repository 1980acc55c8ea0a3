import { describe, expect, it } from 'vitest';
import { ProgramCache } from './program-cache.js';

describe('ProgramCache', () => {
  it('compiles a job once for every holder and forgets it after the last release', () => {
    const cache = new ProgramCache();
    const program = 'var calls = 0; function Run(d, args) { calls++; return [d * args.k, calls] }';
    const a = cache.acquire('job-1', program, { k: 2 });
    const b = cache.acquire('job-1', program, { k: 2 });
    expect(b).toBe(a);
    expect(a.run?.(3, a.args)).toEqual([6, 1]);
    // Shared top-level state: the second holder sees the first one's call.
    expect(b.run?.(4, b.args)).toEqual([8, 2]);
    expect(cache.size).toBe(1);
    cache.release('job-1', a);
    expect(cache.size).toBe(1);
    cache.release('job-1', b);
    expect(cache.size).toBe(0);
    expect(cache.acquire('job-1', program, { k: 2 })).not.toBe(a);
  });

  it('gives args to the top level too, as the worker page does', () => {
    const cache = new ProgramCache();
    const p = cache.acquire('j', 'var base = args.base; var Run = (d) => base + d;', { base: 10 });
    expect(p.run?.(1, p.args)).toBe(11);
  });

  it('keeps the load error of a program that defines no Run or throws', () => {
    const cache = new ProgramCache();
    expect(cache.acquire('a', 'var x = 1', null)).toMatchObject({
      run: undefined,
      loadError: expect.objectContaining({ name: 'TypeError' }),
    });
    expect(cache.acquire('b', 'throw new Error("nope")', null).loadError).toMatchObject({
      message: 'nope',
    });
  });
});

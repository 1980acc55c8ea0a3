import { describe, expect, it } from 'vitest';
import { Rng, checkRange, hash32 } from './random.js';

describe('Rng', () => {
  it('replays the same sequence from the same seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(seqA);
  });

  it('picks within ranges, and fixed values as they are', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 1000; i++) {
      const v = rng.pick([5, 9]);
      expect(v).toBeGreaterThanOrEqual(5);
      expect(v).toBeLessThanOrEqual(9);
      expect(Number.isInteger(v)).toBe(true);
    }
    expect(rng.pick(7)).toBe(7);
  });

  it('draws exponential waits with the right mean', () => {
    const rng = new Rng(7);
    let sum = 0;
    for (let i = 0; i < 20_000; i++) sum += rng.exponentialMs(0.5);
    expect(sum / 20_000).toBeGreaterThan(1900);
    expect(sum / 20_000).toBeLessThan(2100);
  });

  it('chance(0) is never, chance(1) is always', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 100; i++) {
      expect(rng.chance(0)).toBe(false);
      expect(rng.chance(1)).toBe(true);
    }
  });
});

describe('hash32 and checkRange', () => {
  it('hashes to 32-bit unsigned integers, deterministically', () => {
    expect(hash32('a')).toBe(hash32('a'));
    expect(hash32('a')).not.toBe(hash32('b'));
    expect(hash32('')).toBeGreaterThanOrEqual(0);
    expect(hash32('xyz')).toBeLessThan(2 ** 32);
  });

  it('refuses bad ranges with the name of the option', () => {
    expect(() => checkRange([5, 1], 'delayMs')).toThrow(/delayMs/);
    expect(() => checkRange(-1, 'delayMs')).toThrow(RangeError);
    expect(() => checkRange(Number.NaN, 'x')).toThrow(RangeError);
    expect(() => checkRange([0, 0], 'x')).not.toThrow();
  });
});

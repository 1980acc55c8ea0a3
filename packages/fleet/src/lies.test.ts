import { describe, expect, it } from 'vitest';
import { corrupt, lieSeed } from './lies.js';

const json = (v: unknown) => JSON.stringify(v);

describe('corrupt', () => {
  const values: unknown[] = [
    0,
    -0,
    1,
    -7.5,
    1e300,
    -1e300,
    Number.MAX_SAFE_INTEGER,
    '',
    'abc',
    true,
    false,
    null,
    [],
    [1, 2, 3],
    [[], [null]],
    {},
    { a: 1 },
    { b: [1, { c: 'x' }], a: null },
  ];

  it('always returns a different JSON value', () => {
    for (const value of values) {
      for (let seed = 0; seed < 200; seed++) {
        expect(json(corrupt(value, seed)), `${json(value)} seed ${seed}`).not.toBe(json(value));
      }
    }
  });

  it('is deterministic, and does not touch its input', () => {
    const value = { b: [1, { c: 'x' }], a: null };
    const copy = structuredClone(value);
    expect(corrupt(value, 12345)).toEqual(corrupt(value, 12345));
    expect(value).toEqual(copy);
  });

  it('picks the same property whatever the key order', () => {
    for (let seed = 0; seed < 50; seed++) {
      expect(corrupt({ a: 1, b: 2, c: 3 }, seed)).toEqual(corrupt({ c: 3, b: 2, a: 1 }, seed));
    }
  });

  it('changes one place only', () => {
    const array = corrupt([10, 20, 30], 4) as number[];
    expect([array[0], array[2], array.length]).toEqual([10, 30, 3]);
    expect(array[1]).not.toBe(20);
    expect(corrupt({ a: 1, b: 'x' }, 1)).toEqual({ a: 1, b: expect.stringMatching(/^x#/) });
    expect(corrupt(42, 5)).toBe(48);
    expect(corrupt('s', 35)).toBe('s#z');
  });
});

describe('lieSeed', () => {
  it('liars with one key lie about the same tasks, the same way; different keys differ', () => {
    let agree = 0;
    for (let i = 0; i < 1000; i++) {
      expect(lieSeed('job', i, 'gang', 1)).toBe(lieSeed('job', i, 'gang', 1));
      if (corrupt(i, lieSeed('job', i, 'w1', 1)!) === corrupt(i, lieSeed('job', i, 'w2', 1)!)) {
        agree++;
      }
    }
    // Independent liars collide only by chance (1 in 997 per task for numbers).
    expect(agree).toBeLessThan(10);
  });

  it('lies about about `rate` of the tasks; never at 0, always at 1', () => {
    const count = (rate: number) =>
      Array.from({ length: 10_000 }, (_, i) => lieSeed('job-x', i, 'k', rate)).filter(
        (s) => s !== undefined,
      ).length;
    expect(count(0)).toBe(0);
    expect(count(1)).toBe(10_000);
    expect(count(0.25)).toBeGreaterThan(2300);
    expect(count(0.25)).toBeLessThan(2700);
  });
});

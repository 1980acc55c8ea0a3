import { describe, expect, it } from 'vitest';
import { assertExactlyOnce, exactlyOnceReport } from './exactly-once.js';

const ok = (index: number, seq: number, value: unknown = index * 2) => ({
  index,
  seq,
  ok: true,
  value,
});

describe('the exactly-once checker', () => {
  it('passes every index once with unique seqs and right values', () => {
    const outcomes = [ok(2, 1), ok(0, 2), ok(1, 3)];
    expect(assertExactlyOnce(3, outcomes, { expected: (i) => i * 2 })).toEqual({
      missing: [],
      duplicates: [],
      wrong: [],
      errors: [],
      repeatedSeqs: [],
    });
  });

  it('names the missing, duplicated, out-of-range and wrong indexes and repeated seqs', () => {
    const outcomes = [ok(0, 1), ok(0, 2), ok(1, 2, 'x'), ok(7, 3)];
    expect(exactlyOnceReport(3, outcomes, (i) => i * 2)).toEqual({
      missing: [2],
      duplicates: [0],
      wrong: [1, 7],
      errors: [],
      repeatedSeqs: [2],
    });
    expect(() => assertExactlyOnce(3, outcomes)).toThrow(
      /Not exactly once over 3 tasks: missing 1 \(2\); duplicated 1 \(0\); wrong 1 \(7\); repeated seqs 1 \(2\)/,
    );
  });

  it('checks values only when asked, and failures unless allowed', () => {
    const failed = { index: 1, seq: 2, ok: false, error: { type: 'Error', message: 'boom' } };
    const outcomes = [ok(0, 1, 'anything'), failed];
    expect(() => assertExactlyOnce(2, outcomes)).toThrow(/failed 1/);
    expect(assertExactlyOnce(2, outcomes, { allowErrors: true }).errors).toEqual([
      { index: 1, type: 'Error', message: 'boom' },
    ]);
  });

  it('accepts outcomes without seq or ok (REST result lines)', () => {
    expect(() => assertExactlyOnce(2, [{ index: 1 }, { index: 0 }])).not.toThrow();
  });
});

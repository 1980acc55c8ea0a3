import { describe, expect, it } from 'vitest';
import { formatCount, formatCpuTime } from './format';

describe('format', () => {
  it('writes counts with thousands separators', () => {
    // The test runs in Node's default locale; the separator is whatever it uses, never none.
    expect(formatCount(1_054_498)).toMatch(/^1\D054\D498$/);
    expect(formatCount(999)).toBe('999');
  });

  it('writes CPU time in the largest sensible units', () => {
    expect(formatCpuTime(850)).toBe('850 ms');
    expect(formatCpuTime(12_500)).toBe('12.5 s');
    expect(formatCpuTime(200_000)).toBe('3 min 20 s');
    expect(formatCpuTime(7_500_000)).toBe('2 h 5 min');
    expect(formatCpuTime(3_600_000 * 1_234)).toMatch(/^1\D234 h$/);
  });
});

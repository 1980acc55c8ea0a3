import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatBytes,
  formatCount,
  formatDuration,
  formatPercent,
  formatRate,
  previewValue,
} from './format.js';

describe('formatCount', () => {
  it('is exact below ten thousand and short above', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(9999)).toBe('9,999');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(250_000)).toBe('250k');
    expect(formatCount(4_560_000)).toBe('4.56M');
    expect(formatCount(Number.NaN)).toBe('—');
  });
});

describe('formatRate', () => {
  it('keeps small rates precise and large ones short', () => {
    expect(formatRate(0)).toBe('0');
    expect(formatRate(-3)).toBe('0');
    expect(formatRate(0.25)).toBe('0.25');
    expect(formatRate(12.34)).toBe('12.3');
    expect(formatRate(40)).toBe('40');
    expect(formatRate(1234)).toBe('1,234');
    expect(formatRate(98_200)).toBe('98.2k');
  });
});

describe('formatDuration', () => {
  it('uses at most two units', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(3690)).toBe('3.7 s');
    expect(formatDuration(2000)).toBe('2 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatDuration(3_600_000)).toBe('1 h');
    expect(formatDuration(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 5 min');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 d 4 h');
  });

  it('rounds 59.6 minutes-worth of seconds into the next minute', () => {
    expect(formatDuration(119_700)).toBe('2 min');
  });

  it('refuses nonsense', () => {
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('—');
  });
});

describe('formatAge', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');
  it('describes how long ago', () => {
    expect(formatAge('2025-01-01T11:59:58Z', now)).toBe('just now');
    expect(formatAge('2025-01-01T11:59:18Z', now)).toBe('42 s ago');
    expect(formatAge('2025-01-01T11:57:00Z', now)).toBe('3 min ago');
    expect(formatAge('2025-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAge('2024-12-29T12:00:00Z', now)).toBe('3 d ago');
    expect(formatAge('not a date', now)).toBe('—');
  });

  it('treats a clock slightly ahead as now', () => {
    expect(formatAge('2025-01-01T12:00:03Z', now)).toBe('just now');
  });
});

describe('formatPercent', () => {
  it('never shows 100% before the end', () => {
    expect(formatPercent(0, 0)).toBe('0%');
    expect(formatPercent(1, 3)).toBe('33%');
    expect(formatPercent(999, 1000)).toBe('99.9%');
    expect(formatPercent(9999, 10_000)).toBe('99.9%');
    expect(formatPercent(10, 10)).toBe('100%');
  });
});

describe('previewValue', () => {
  it('shows JSON on one line, cut to length', () => {
    expect(previewValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(previewValue('x'.repeat(200), 10)).toBe('"xxxxxxxx…');
    expect(previewValue(undefined)).toBe('undefined');
  });
});

describe('formatBytes', () => {
  it('uses powers of 1,000 with three significant digits', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1500)).toBe('1.5 KB');
    expect(formatBytes(45_230_000)).toBe('45.2 MB');
    expect(formatBytes(1_070_000_000)).toBe('1.07 GB');
    expect(formatBytes(-1)).toBe('—');
  });
});

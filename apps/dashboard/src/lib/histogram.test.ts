import { describe, expect, it } from 'vitest';
import { bucketLabel, histogramBars, quantileBucket } from './histogram.js';

// The server's buckets: powers of two from 1 ms to 65,536 ms, then an open-ended one.
const bucketsMs = [...Array.from({ length: 17 }, (_, i) => 2 ** i), Number.MAX_SAFE_INTEGER];
const empty = () => new Array<number>(bucketsMs.length).fill(0);

describe('bucketLabel', () => {
  it('labels closed, unit-crossing and open buckets', () => {
    expect(bucketLabel(bucketsMs, 0)).toBe('< 1 ms');
    expect(bucketLabel(bucketsMs, 3)).toBe('4–8 ms');
    expect(bucketLabel(bucketsMs, 10)).toBe('512 ms–1 s');
    expect(bucketLabel(bucketsMs, 12)).toBe('2–4.1 s');
    expect(bucketLabel(bucketsMs, 17)).toBe('≥ 65.5 s');
    expect(bucketLabel(bucketsMs, 99)).toBe('');
  });
});

describe('histogramBars', () => {
  it('is empty when no task has finished', () => {
    expect(histogramBars({ bucketsMs, counts: empty() })).toEqual({ labels: [], counts: [] });
  });

  it('keeps the used range, widened on both sides to a few bars', () => {
    const counts = empty();
    counts[2] = 5;
    counts[3] = 7;
    const bars = histogramBars({ bucketsMs, counts });
    expect(bars.counts).toEqual([0, 5, 7, 0, 0]);
    expect(bars.labels).toEqual(['1–2 ms', '2–4 ms', '4–8 ms', '8–16 ms', '16–32 ms']);
  });

  it('does not widen a wide range', () => {
    const counts = empty();
    counts[0] = 1;
    counts[9] = 1;
    expect(histogramBars({ bucketsMs, counts }).counts).toHaveLength(10);
  });

  it('widens downwards at the top end', () => {
    const counts = empty();
    counts[17] = 1;
    const bars = histogramBars({ bucketsMs, counts }, 3);
    expect(bars.counts).toEqual([0, 0, 1]);
    expect(bars.labels.at(-1)).toBe('≥ 65.5 s');
  });
});

describe('quantileBucket', () => {
  it('finds the bucket of the median and of p95', () => {
    const counts = empty();
    counts[1] = 50;
    counts[4] = 45;
    counts[9] = 5;
    expect(quantileBucket({ bucketsMs, counts }, 0.5)).toBe('1–2 ms');
    expect(quantileBucket({ bucketsMs, counts }, 0.95)).toBe('8–16 ms');
    expect(quantileBucket({ bucketsMs, counts }, 0.99)).toBe('256–512 ms');
    expect(quantileBucket({ bucketsMs, counts: empty() }, 0.5)).toBeUndefined();
  });
});

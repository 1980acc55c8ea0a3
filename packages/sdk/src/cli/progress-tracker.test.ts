/** The numbers of the progress line, on an injected clock. */
import { describe, expect, it } from 'vitest';
import { ProgressTracker, RATE_WINDOW_MS } from './progress-tracker.js';
import { describeProgress } from './progress-view.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('ProgressTracker', () => {
  it('has no rate or ETA before a second has passed, then the rate so far and the time left', () => {
    const c = clock();
    const tracker = new ProgressTracker(c.now);
    tracker.record(5, 0, 100);
    c.advance(500);
    expect(tracker.snapshot()).toMatchObject({ settled: 5, rate: undefined, etaMs: undefined });
    c.advance(500);
    tracker.record(20, 2, 100);
    const s = tracker.snapshot();
    expect(s).toMatchObject({ settled: 20, failed: 2, total: 100, elapsedMs: 1_000, rate: 20 });
    expect(s.etaMs).toBe(4_000); // 80 left at 20/s
  });

  it('measures the rate over the recent window, so it follows a slowdown', () => {
    const c = clock();
    const tracker = new ProgressTracker(c.now);
    // 100/s for 20 s, sampled every second…
    for (let t = 1; t <= 20; t++) {
      c.advance(1_000);
      tracker.record(t * 100, 0, 10_000);
      tracker.snapshot();
    }
    // …then 10/s for a full window.
    for (let t = 1; t <= RATE_WINDOW_MS / 1_000 + 1; t++) {
      c.advance(1_000);
      tracker.record(2_000 + t * 10, 0, 10_000);
      tracker.snapshot();
    }
    const s = tracker.snapshot();
    expect(s.rate).toBeCloseTo(10, 5);
    expect(s.etaMs).toBeCloseTo(((10_000 - s.settled) / 10) * 1_000, 0);
  });

  it('leaves out of the rate what had settled before watching began', () => {
    const c = clock();
    const tracker = new ProgressTracker(c.now, 500);
    c.advance(2_000);
    tracker.record(520, 0, 1_000);
    expect(tracker.snapshot()).toMatchObject({ settled: 520, rate: 10, etaMs: 48_000 });
  });

  it('has no ETA while the total is unknown (NDJSON still being read), and 0 when all settled', () => {
    const c = clock();
    const tracker = new ProgressTracker(c.now);
    c.advance(2_000);
    tracker.record(10, 0);
    expect(tracker.snapshot()).toMatchObject({ total: undefined, etaMs: undefined, rate: 5 });
    tracker.record(10, 1, 10);
    expect(tracker.snapshot().etaMs).toBe(0);
  });

  it('reads as a plain progress line', () => {
    expect(
      describeProgress({
        settled: 412,
        failed: 3,
        total: 1_000,
        elapsedMs: 5_000,
        rate: 83.24,
        etaMs: 7_100,
      }),
    ).toBe('412/1000 settled, 3 failed, 83.2 tasks/s, elapsed 5.0s, ETA 7.1s');
    expect(
      describeProgress({
        settled: 4,
        failed: 0,
        total: undefined,
        submitted: 9,
        elapsedMs: 300,
        rate: undefined,
        etaMs: undefined,
      }),
    ).toBe('4/9+ settled, 0 failed, … tasks/s, elapsed 300ms');
  });
});

import { decodeWorkerToServer } from '@tabgrid/protocol/worker';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FLUSH_DELAY_MS, OutcomeBuffer, flushThreshold } from './outcome-buffer';

const outcome = (index: number) =>
  JSON.stringify({ jobId: 'j', index, ms: 1, ok: true, value: { n: index } });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('OutcomeBuffer', () => {
  it('sends one protocol-valid outcomes frame carrying the credit, after a short delay', async () => {
    const frames: string[] = [];
    const buffer = new OutcomeBuffer(
      (frame) => frames.push(frame),
      () => true,
    );
    buffer.add([outcome(0), outcome(1)].join(','), 2);
    buffer.addCredit(2);
    buffer.add([outcome(2)].join(','), 1);
    await Promise.resolve(); // the flush is planned in a microtask
    expect(frames).toEqual([]);
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(frames).toHaveLength(1);
    const decoded = decodeWorkerToServer(frames[0]);
    expect(decoded).toEqual({
      type: 'outcomes',
      credit: 2,
      items: [0, 1, 2].map((index) => ({
        jobId: 'j',
        index,
        ms: 1,
        ok: true,
        value: { n: index },
      })),
    });
  });

  it('sends a bare credit frame when there are no outcomes, and nothing when idle', () => {
    const frames: string[] = [];
    const buffer = new OutcomeBuffer(
      (frame) => frames.push(frame),
      () => true,
    );
    buffer.addCredit(5);
    buffer.flush();
    buffer.flush();
    expect(frames.map((frame) => decodeWorkerToServer(frame))).toEqual([
      { type: 'credit', slots: 5 },
    ]);
  });

  it('flushes at once when enough outcomes wait', () => {
    const frames: string[] = [];
    const buffer = new OutcomeBuffer(
      (frame) => frames.push(frame),
      () => true,
    );
    buffer.flushAt = 3;
    buffer.add([outcome(0), outcome(1), outcome(2)].join(','), 3);
    expect(frames).toHaveLength(1);
  });

  it('keeps credit back when asked (pause)', () => {
    const frames: string[] = [];
    const buffer = new OutcomeBuffer(
      (frame) => frames.push(frame),
      () => true,
    );
    buffer.addCredit(4);
    expect(buffer.takeCredit()).toBe(4);
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(frames).toEqual([]);
  });

  it('parks at most a quarter of the grant, within bounds', () => {
    expect(flushThreshold(256)).toBe(64);
    expect(flushThreshold(32 * 256)).toBe(512);
    expect(flushThreshold(8)).toBe(16);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { until } from './until.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('until', () => {
  it('resolves with the first value that is not false, undefined or null', async () => {
    let polls = 0;
    const value = until(() => (++polls === 3 ? 'ready' : undefined), { intervalMs: 10 });
    await vi.advanceTimersByTimeAsync(20);
    await expect(value).resolves.toBe('ready');
    expect(polls).toBe(3);
  });

  it('fails after the timeout with a message naming what it waited for', async () => {
    const waiting = until(() => false, { timeoutMs: 100, what: 'the job done' });
    const failed = expect(waiting).rejects.toThrow(
      'Timed out after 100 ms waiting for the job done.',
    );
    await vi.advanceTimersByTimeAsync(200);
    await failed;
  });
});

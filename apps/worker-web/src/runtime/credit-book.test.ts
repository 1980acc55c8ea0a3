import { describe, expect, it } from 'vitest';
import { WORKER_LIMITS } from '@tabgrid/protocol/worker';
import {
  CreditBook,
  FIRST_SLOTS_PER_THREAD,
  MAX_SLOTS_PER_THREAD,
  MIN_SLOTS_PER_THREAD,
  slotsPerThread,
} from './credit-book';

describe('slotsPerThread', () => {
  it('holds about HELD_MS_PER_THREAD of work, within bounds', () => {
    expect(slotsPerThread(undefined)).toBe(FIRST_SLOTS_PER_THREAD);
    expect(slotsPerThread(0.0001)).toBe(MAX_SLOTS_PER_THREAD);
    expect(slotsPerThread(25)).toBe(10);
    expect(slotsPerThread(60_000)).toBe(MIN_SLOTS_PER_THREAD);
  });
});

describe('CreditBook', () => {
  it('announces the first target, then grows it once tasks turn out tiny', () => {
    const book = new CreditBook(2);
    expect(book.open(2)).toBe(2 * FIRST_SLOTS_PER_THREAD);
    book.recordTiming(100, 0.1);
    // 10 tasks came back: granted again, plus everything missing up to the new target.
    expect(book.returned(10)).toBe(2 * MAX_SLOTS_PER_THREAD - 2 * FIRST_SLOTS_PER_THREAD + 10);
    expect(book.returned(5)).toBe(5);
  });

  it("never asks for more slots than the server's limit, however many threads", () => {
    const book = new CreditBook(WORKER_LIMITS.maxThreads);
    const first = book.open(WORKER_LIMITS.maxThreads);
    book.recordTiming(1000, 0.1); // tiny tasks: 4,096 slots per thread, uncapped
    expect(book.target).toBe(WORKER_LIMITS.maxCredit);
    expect(first + book.returned(0)).toBe(WORKER_LIMITS.maxCredit);
  });

  it('shrinks by not granting returned slots while above the target', () => {
    const book = new CreditBook(1);
    book.open(1); // 64 in circulation
    book.recordTiming(1, 50); // 50 ms tasks: 5 slots wanted
    expect(book.returned(1)).toBe(0); // 63 out
    for (let i = 0; i < 58; i++) expect(book.returned(1)).toBe(0); // down to 5
    expect(book.returned(1)).toBe(1); // 4 out: topped up to 5
  });

  it('grants nothing while paused and tops up on resume', () => {
    const book = new CreditBook(1);
    book.paused = true;
    expect(book.open(1)).toBe(0);
    expect(book.returned(0)).toBe(0);
    book.paused = false;
    expect(book.topUp()).toBe(FIRST_SLOTS_PER_THREAD);
    expect(book.topUp()).toBe(0);
  });

  it('starts from zero after a close', () => {
    const book = new CreditBook(1);
    book.open(1);
    book.close();
    expect(book.topUp()).toBe(FIRST_SLOTS_PER_THREAD);
  });
});

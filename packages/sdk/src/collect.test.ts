import { describe, expect, it } from 'vitest';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { Outcome } from '@tabgrid/protocol/jobs';
import { collectInOrder, TasksFailedError } from './collect.js';

function ok(index: number, value: unknown, seq = index + 1): Outcome {
  return { index, ok: true, value, seq };
}

function failed(index: number, message: string, seq = index + 1): Outcome {
  return {
    index,
    ok: false,
    seq,
    error: { name: 'Error', message, stack: 'at Run', type: 'program' },
  };
}

function byIndex(outcomes: Outcome[]): Map<number, Outcome> {
  return new Map(outcomes.map((o) => [o.index, o]));
}

describe('collectInOrder', () => {
  it('returns values in input order whatever order indexes and outcomes arrived in', () => {
    // Batch 2 of the input (offset 2) was acknowledged first and got the lower indexes.
    const ranges = [
      { offset: 2, firstIndex: 10, count: 2 },
      { offset: 0, firstIndex: 12, count: 2 },
    ];
    const outcomes = byIndex([
      ok(13, 'b'),
      ok(10, 'c'),
      ok(12, 'a'),
      ok(11, 'd'),
      ok(3, 'other job task'),
    ]);
    expect(collectInOrder(ranges, outcomes)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('returns an empty array for no ranges', () => {
    expect(collectInOrder([], new Map())).toEqual([]);
  });

  it('rejects with TASKS_FAILED naming the failed indexes and the first error', () => {
    const ranges = [{ offset: 0, firstIndex: 0, count: 4 }];
    const outcomes = byIndex([ok(0, 1), failed(3, 'late boom'), failed(1, 'boom'), ok(2, 3)]);
    let caught: unknown;
    try {
      collectInOrder(ranges, outcomes);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TasksFailedError);
    expect(caught).toBeInstanceOf(TabgridError);
    const error = caught as TasksFailedError<number>;
    expect(error.code).toBe(ErrorCode.TASKS_FAILED);
    expect(error.message).toBe('2 of 4 tasks failed (indexes 1, 3); the first: Error: boom');
    expect(error.failures.map((f) => [f.index, f.type])).toEqual([
      [1, 'program'],
      [3, 'program'],
    ]);
    expect(error.values).toEqual([1, undefined, 3, undefined]);
  });

  it('lists at most ten indexes', () => {
    const outcomes = byIndex(Array.from({ length: 12 }, (_, i) => failed(i, 'x')));
    expect(() => collectInOrder([{ offset: 0, firstIndex: 0, count: 12 }], outcomes)).toThrow(
      /indexes 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … \(2 more\)/,
    );
  });

  it('reports outcomes missing from an ended stream as a protocol error', () => {
    const missing = () =>
      collectInOrder([{ offset: 0, firstIndex: 5, count: 2 }], byIndex([ok(5, 1)]));
    expect(missing).toThrow(/without outcomes for 1 tasks \(indexes 6\)/);
    expect(missing).toThrow(expect.objectContaining({ code: ErrorCode.PROTOCOL }));
  });
});

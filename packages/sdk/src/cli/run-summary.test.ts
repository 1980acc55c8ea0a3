/** The end-of-run summary: counts, rate, error groups by type and message, what to run next. */
import { describe, expect, it } from 'vitest';
import { ErrorGroups, MAX_ERROR_GROUPS, formatSummary } from './run-summary.js';

const failure = (type: 'program' | 'timeout' | 'cancelled', message: string, name = 'Error') => ({
  type,
  name,
  message,
});

describe('ErrorGroups', () => {
  it('groups by type and message, largest first, each with its earliest task', () => {
    const groups = new ErrorGroups();
    groups.add(9, failure('program', 'bad'));
    groups.add(4, failure('program', 'bad'));
    groups.add(2, failure('timeout', 'bad'));
    groups.add(7, failure('program', 'worse'));
    groups.add(1, failure('program', 'bad'));
    expect(groups.top(2)).toEqual([
      { type: 'program', name: 'Error', message: 'bad', count: 3, firstIndex: 1 },
      { type: 'timeout', name: 'Error', message: 'bad', count: 1, firstIndex: 2 },
    ]);
    expect(groups.size).toBe(3);
  });

  it('counts cancelled tasks apart, and keeps at most MAX_ERROR_GROUPS groups', () => {
    const groups = new ErrorGroups();
    groups.add(0, failure('cancelled', 'Task 0 did not run to the end'));
    groups.add(1, failure('cancelled', 'Task 1 did not run to the end'));
    expect(groups.cancelled).toBe(2);
    expect(groups.size).toBe(0);
    for (let i = 0; i < MAX_ERROR_GROUPS + 5; i++) groups.add(i, failure('program', `e${i}`));
    expect(groups.size).toBe(MAX_ERROR_GROUPS + 1); // the overflow counts as one more kind
  });
});

describe('formatSummary', () => {
  it('says counts, time, rate, the top errors and how to replay the first program error', () => {
    const errors = new ErrorGroups();
    for (const i of [12, 30, 31]) errors.add(i, failure('program', 'too big', 'RangeError'));
    errors.add(40, failure('timeout', 'Run did not finish within timeoutMs (5000 ms)'));
    const text = formatSummary({
      jobId: 'j1',
      name: 'squares',
      total: 100,
      succeeded: 96,
      failed: 4,
      elapsedMs: 2_000,
      cancelled: false,
      errors,
    });
    expect(text).toBe(
      [
        'job j1 (squares): 100 tasks: 96 succeeded, 4 failed in 2.0s (50.0 tasks/s)',
        '  top errors:',
        '    3 × program  RangeError: too big  (first: task 12)',
        '    1 × timeout  Error: Run did not finish within timeoutMs (5000 ms)  (first: task 40)',
        '  look closer: tabgrid errors j1 · tabgrid replay j1 12',
        '',
      ].join('\n'),
    );
  });

  it('says the job was cancelled, and how many tasks never settled', () => {
    const errors = new ErrorGroups();
    errors.add(5, failure('cancelled', 'Task 5 did not run to the end: its job was cancelled.'));
    const text = formatSummary({
      jobId: 'j2',
      total: 10,
      succeeded: 3,
      failed: 1,
      elapsedMs: 1_000,
      cancelled: true,
      errors,
      outFile: 'out.ndjson',
    });
    expect(text).toContain('job j2: 10 tasks: 3 succeeded, 0 failed, 1 cancelled in 1.0s');
    expect(text).toContain('  the job was cancelled: 6 tasks never settled\n');
    expect(text).toContain('  outcomes: out.ndjson\n');
    expect(text).not.toContain('top errors');
  });
});

/** Shared output: aligned tables, the jobs table, durations, ages, JSON lines. */
import { describe, expect, it } from 'vitest';
import type { JobInfo } from '@tabgrid/protocol/jobs';
import { jobsTable } from './job-commands.js';
import { formatAge, formatDuration, jsonLine, table } from './output.js';

describe('table', () => {
  it('pads columns to their widest cell, numbers right-aligned', () => {
    expect(
      table(
        [
          ['ID', 'N'],
          ['a', '10'],
          ['bbb', '2'],
        ],
        new Set([1]),
      ),
    ).toBe('ID    N\na    10\nbbb   2');
  });
});

describe('jobsTable', () => {
  const job = (id: string, created: string, more: Partial<JobInfo> = {}) =>
    ({
      id,
      name: `n-${id}`,
      state: 'closed',
      total: 1_000,
      finished: 400,
      failed: 12,
      inFlight: 16,
      queued: 572,
      priority: 0,
      created,
      paused: null,
      ...more,
    }) as JobInfo;

  it('lists newest first with progress and age, in aligned columns', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    const text = jobsTable(
      [
        job('old', '2026-11-29T12:00:00Z', {
          state: 'done',
          finished: 1_000,
          failed: 0,
          inFlight: 0,
          queued: 0,
        }),
        job('new', '2026-12-01T11:59:30Z', {
          total: 0,
          finished: 0,
          failed: 0,
          inFlight: 0,
          queued: 0,
        }),
        job('mid', '2026-12-01T10:00:00Z', { paused: 'tabs crashed' }),
      ],
      now,
    );
    const lines = text.split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(['ID', 'new', 'mid', 'old']);
    expect(lines[1]).toMatch(/new\s+n-new\s+closed\s+0\/0\s+0\s+0\s+0\s+0\s+30s$/);
    expect(lines[2]).toMatch(/closed \(paused\)\s+412\/1000 41%\s+12\s+16\s+572\s+0\s+2h$/);
    expect(lines[3]).toMatch(/done\s+1000\/1000 100%\s+0\s+0\s+0\s+0\s+2d$/);
    // Aligned: every row's AGE column ends where the header's does.
    const width = lines[0]?.length ?? 0;
    expect(lines.every((l) => l.length === width)).toBe(true);
  });
});

describe('durations and ages', () => {
  it('reads as people say them', () => {
    expect(
      [850, 12_340, 65_000, 3_780_000, 2 * 86_400_000 + 3_600_000].map(formatDuration),
    ).toEqual(['850ms', '12.3s', '1m 05s', '1h 03m', '2d 1h']);
    const now = Date.parse('2026-12-01T10:04:30Z');
    expect(formatAge('2026-12-01T10:00:00Z', now)).toBe('4m');
    expect(formatAge('not a date', now)).toBe('?');
  });

  it('prints typed arrays as arrays in JSON lines', () => {
    expect(jsonLine({ v: new Float32Array([1.5, 2]), b: 2n })).toBe('{"v":[1.5,2],"b":"2"}\n');
  });
});

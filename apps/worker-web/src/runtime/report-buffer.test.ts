import { WORKER_LIMITS, decodeWorkerToServer } from '@tabgrid/protocol/worker';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutcomeBuffer } from './outcome-buffer';
import {
  REPORT_FLUSH_MS,
  REPORT_MAX_PENDING_CHARS,
  ReportBuffer,
  type ReportItem,
} from './report-buffer';

const line = (message: string, count = 1) => ({
  level: 'log',
  message,
  count,
  at: 1_700_000_000_000,
});
const tel = (...items: object[]) => items.map((item) => JSON.stringify(item)).join(',');

function setup() {
  const frames: string[] = [];
  const reports = new ReportBuffer((frame) => frames.push(frame));
  /** Every frame decoded as the server decodes it; their items in order. */
  const items = (): ReportItem[] =>
    frames.flatMap((frame) => {
      const message = decodeWorkerToServer(frame);
      if (message.type !== 'report') throw new Error(`not a report frame: ${message.type}`);
      return message.items;
    });
  return { frames, reports, items };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('ReportBuffer', () => {
  it('sends nothing for nothing, and one frame per flush interval otherwise', () => {
    const { frames, reports } = setup();
    reports.flush();
    expect(frames).toHaveLength(0);
    expect(reports.empty).toBe(true);
    reports.add('job-1', tel({ index: 3, progress: 0.25 }));
    reports.add('job-1', tel({ index: 3, progress: 0.5 }));
    expect(frames).toHaveLength(0);
    vi.advanceTimersByTime(REPORT_FLUSH_MS);
    expect(frames).toHaveLength(1);
    vi.advanceTimersByTime(REPORT_FLUSH_MS * 4);
    expect(frames).toHaveLength(1);
  });

  it('coalesces per task: last progress wins, lines and events in order, dropped tallies add', () => {
    const { reports, items } = setup();
    reports.add('job-1', tel({ index: 3, progress: 0.25, logs: [line('a')] }));
    reports.add(
      'job-1',
      tel({ index: 4, progress: null }, { index: 3, progress: 0.75, logs: [line('b', 50)] }),
    );
    reports.add(
      'job-1',
      tel({ index: 3, dropped: { logs: 7 } }, { index: 3, dropped: { logs: 3, events: 1 } }),
    );
    reports.add('job-2', tel({ index: null, setup: { ms: 12, ok: true }, logs: [line('setup')] }));
    reports.add('job-2', tel({ index: null, setup: { ms: 30, ok: false } }));
    reports.started('job-2', 9);
    reports.flush();
    expect(items()).toEqual([
      {
        jobId: 'job-1',
        index: 3,
        progress: 0.75,
        dropped: { logs: 10, events: 1 },
        logs: [line('a'), line('b', 50)],
      },
      { jobId: 'job-1', index: 4, progress: null },
      { jobId: 'job-2', index: null, setup: { ms: 12, ok: true }, logs: [line('setup')] },
      { jobId: 'job-2', index: null, setup: { ms: 30, ok: false } },
      { jobId: 'job-2', index: 9, started: true },
    ]);
  });

  it("keeps only the job's own items of a thread that left it, and of a cancelled job", () => {
    const { reports, items } = setup();
    reports.add('j', tel({ index: 1, progress: 0.5 }, { index: null, logs: [line('bye')] }), true);
    reports.add('k', tel({ index: 2, progress: 0.5 }, { index: null, logs: [line('setup')] }));
    reports.forgetTasks('k');
    reports.forgetTasks('nothing');
    reports.flush();
    expect(items()).toEqual([
      { jobId: 'j', index: null, logs: [line('bye')] },
      { jobId: 'k', index: null, logs: [line('setup')] },
    ]);
  });

  it("splits a task's lines and events to the protocol's per-item bounds", () => {
    const { reports, items } = setup();
    const logs = Array.from({ length: 600 }, (_, i) => line(`l${i}`));
    const events = Array.from({ length: 300 }, (_, i) => ({ name: 'e', data: i, at: 1 }));
    reports.add('j', tel({ index: 1, logs, events, progress: 1 }));
    reports.flush();
    const sent = items();
    expect(sent.map((item) => [item.index, item.logs?.length, item.events?.length])).toEqual([
      [1, 256, 256],
      [1, 256, 44],
      [1, 88, undefined],
    ]);
    expect(sent.flatMap((item) => item.logs ?? []).map((l) => l.message)).toEqual(
      logs.map((l) => l.message),
    );
    expect(sent.filter((item) => item.progress !== undefined)).toHaveLength(1);
  });

  it('drops a report text that breaks the protocol, whole, and counts it', () => {
    const { frames, reports } = setup();
    reports.add('j', 'not json');
    reports.add('j', tel({ index: 1, progress: 2 }));
    reports.add('j', tel({ index: 1, logs: [{ level: 'shout', message: 'x', count: 1, at: 1 }] }));
    reports.add('j', tel({ index: 1, jobId: 'other' }));
    const deep = { v: [] as unknown[] };
    let v = deep.v;
    for (let i = 0; i < 40; i++) v = v[0] = [];
    reports.add('j', tel({ index: 1, events: [{ name: 'deep', data: deep, at: 1 }] }));
    reports.flush();
    expect(reports.malformed).toBe(5);
    expect(frames).toHaveLength(0);
  });

  it('flushes at once at 1 MB, and beyond 8 MB waiting drops lines and events as counted', () => {
    const { frames, reports, items } = setup();
    const big = 'x'.repeat(1900);
    const heavy = tel({ index: 1, logs: Array.from({ length: 600 }, () => line(big)) });
    reports.add('j', heavy);
    // Over 1 MB: sent at once, in frames the server accepts (256 KB at most each).
    expect(frames.length).toBeGreaterThanOrEqual(5);
    for (const frame of frames) {
      expect(new TextEncoder().encode(frame).length).toBeLessThanOrEqual(
        WORKER_LIMITS.maxReportFrameBytes,
      );
    }
    expect(items().reduce((n, item) => n + (item.logs?.length ?? 0), 0)).toBe(600);
    frames.length = 0;
    // Were the timer and the 1 MB trigger both late, what waits would still be bounded.
    const flush = reports.flush.bind(reports);
    reports.flush = () => undefined;
    const times = Math.ceil(REPORT_MAX_PENDING_CHARS / heavy.length) + 2;
    for (let i = 0; i < times; i++) reports.add('j', heavy);
    expect((reports as unknown as { chars: number }).chars).toBeLessThanOrEqual(
      REPORT_MAX_PENDING_CHARS,
    );
    flush();
    const sent = items();
    const kept = sent.reduce((n, item) => n + (item.logs?.length ?? 0), 0);
    const dropped = sent.reduce((n, item) => n + (item.dropped?.logs ?? 0), 0);
    expect(kept).toBeLessThan(times * 600);
    expect(dropped).toBeGreaterThan(0);
    expect(kept + dropped).toBe(times * 600);
  });

  it("goes before the outcomes that follow it on the socket (the runtime's send order)", () => {
    const sent: string[] = [];
    const reports = new ReportBuffer((frame) => sent.push(frame));
    const outcomes = new OutcomeBuffer(
      (frame) => {
        if (!reports.empty) reports.flush();
        sent.push(frame as string);
      },
      () => true,
    );
    reports.add('j', tel({ index: 0, logs: [line('before')] }));
    outcomes.add(JSON.stringify({ jobId: 'j', index: 0, ms: 1, ok: true, value: 1 }), 1);
    outcomes.flush();
    expect(sent.map((frame) => (JSON.parse(frame) as { type: string }).type)).toEqual([
      'report',
      'outcomes',
    ]);
  });
});

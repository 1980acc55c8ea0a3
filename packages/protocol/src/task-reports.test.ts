import { describe, expect, it } from 'vitest';
import { jsonByteLength } from './bytes.js';
import { decodeFeedPush } from './feeds.js';
import { decodeSdkRequest } from './sdk.js';
import {
  REPORT_LIMITS,
  TASK_LIMITS,
  droppedLinesMessage,
  reportFrames,
  utf8Length,
  type TaskReport,
} from './task-reports.js';
import { WORKER_LIMITS, decodeServerToWorker, decodeWorkerToServer } from './worker.js';

const L = WORKER_LIMITS;

function report(item: Record<string, unknown>, extra: unknown[] = []): string {
  return JSON.stringify({ type: 'report', items: [{ jobId: 'j1', index: 0, ...item }, ...extra] });
}
function sample(patch: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'sample',
    busyMs: [10, 20],
    intervalMs: 5_000,
    tasks: 3,
    heapUsed: 1_000,
    jobs: [{ jobId: 'j1', busyMs: 30 }],
    ...patch,
  });
}
function log(message = 'hi', count = 1) {
  return { level: 'log', message, count, at: 1 };
}
function event(data: unknown = 1, name = 'e') {
  return { name, data, at: 1 };
}
function nested(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}
/** `n` items of `make(i)`. */
function many<T>(n: number, make: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => make(i));
}

const accepts = (frame: string) => expect(() => decodeWorkerToServer(frame)).not.toThrow();
const refuses = (frame: string, why?: RegExp) =>
  expect(() => decodeWorkerToServer(frame)).toThrow(why ?? /Invalid worker frame/);

describe('report frames', () => {
  it('take a task entry with every part, and a job entry (index null) with a setup', () => {
    const frame = decodeWorkerToServer(
      report(
        {
          progress: 0.5,
          started: true,
          logs: [log('x', 3)],
          events: [event({ a: [1, 2] })],
          dropped: { logs: 5, events: 1 },
        },
        [{ jobId: 'j1', index: null, progress: null, setup: { ms: 12, ok: false } }],
      ),
    );
    expect(frame.type).toBe('report');
    if (frame.type !== 'report') return;
    expect(frame.items).toHaveLength(2);
    expect(frame.items[1]?.setup).toEqual({ ms: 12, ok: false });
  });

  it('refuse one entry over maxReportItems', () => {
    const at = many(REPORT_LIMITS.maxReportItems, (i) => ({ jobId: 'j', index: i }));
    accepts(JSON.stringify({ type: 'report', items: at }));
    refuses(JSON.stringify({ type: 'report', items: [...at, { jobId: 'j', index: 0 }] }));
  });

  it('refuse a line over maxLogsPerItem, maxLogLength, maxCount, and an unknown level', () => {
    accepts(report({ logs: many(L.maxLogsPerItem, () => log()) }));
    refuses(report({ logs: many(L.maxLogsPerItem + 1, () => log()) }));
    accepts(report({ logs: [log('x'.repeat(L.maxLogLength))] }));
    refuses(report({ logs: [log('x'.repeat(L.maxLogLength + 1))] }));
    accepts(report({ logs: [log('x', L.maxCount)] }));
    refuses(report({ logs: [log('x', L.maxCount + 1)] }));
    refuses(report({ logs: [log('x', 0)] }));
    refuses(report({ logs: [{ ...log(), level: 'trace' }] }));
    refuses(report({ dropped: { logs: L.maxCount + 1 } }));
  });

  it('refuse an event over maxEventsPerItem, maxEventNameLength, maxDataDepth, maxEventDataBytes', () => {
    accepts(report({ events: many(L.maxEventsPerItem, () => event()) }));
    refuses(report({ events: many(L.maxEventsPerItem + 1, () => event()) }));
    accepts(report({ events: [event(1, 'n'.repeat(L.maxEventNameLength))] }));
    refuses(report({ events: [event(1, 'n'.repeat(L.maxEventNameLength + 1))] }));
    refuses(report({ events: [event(1, '')] }));
    accepts(report({ events: [event(nested(L.maxDataDepth))] }));
    refuses(report({ events: [event(nested(L.maxDataDepth + 1))] }), /nested deeper than 32/);
    // A string of n ASCII characters is n + 2 bytes of JSON.
    accepts(report({ events: [event('x'.repeat(L.maxEventDataBytes - 2))] }));
    refuses(report({ events: [event('x'.repeat(L.maxEventDataBytes - 1))] }), /16384 bytes/);
    accepts(report({ events: [event(['x'.repeat(L.maxEventDataBytes - 4)])] }));
    refuses(report({ events: [event(['x'.repeat(L.maxEventDataBytes - 3)])] }), /16384 bytes/);
  });

  it('refuse a progress outside 0..1, a negative time, a setup over maxTaskMs', () => {
    accepts(report({ progress: 1 }));
    refuses(report({ progress: 1.0001 }));
    refuses(report({ progress: -0.1 }));
    refuses(report({ logs: [{ ...log(), at: -1 }] }));
    accepts(report({ index: null, setup: { ms: L.maxTaskMs, ok: true } }));
    refuses(report({ index: null, setup: { ms: L.maxTaskMs + 1, ok: true } }));
  });
});

describe('sample frames', () => {
  it('take a tab sample', () => accepts(sample()));

  it('refuse one over each bound', () => {
    accepts(sample({ busyMs: many(L.maxThreads, () => 1) }));
    refuses(sample({ busyMs: many(L.maxThreads + 1, () => 1) }));
    refuses(sample({ busyMs: [600_001] }));
    refuses(sample({ intervalMs: 99 }));
    refuses(sample({ intervalMs: 600_001 }));
    refuses(sample({ tasks: 1e9 + 1 }));
    accepts(sample({ heapUsed: null }));
    refuses(sample({ heapUsed: 2 ** 46 + 1 }));
    const jobs = many(L.maxSampleJobs, (i) => ({ jobId: `j${i}`, busyMs: 1 }));
    accepts(sample({ jobs }));
    refuses(sample({ jobs: [...jobs, { jobId: 'x', busyMs: 1 }] }));
    refuses(sample({ jobs: [{ jobId: 'x', busyMs: 1.6e8 + 1 }] }));
  });
});

describe('series in outcomes', () => {
  function outcome(series: unknown, ok = true): string {
    const item = ok
      ? { jobId: 'j1', index: 0, ms: 1, ok: true, value: 1, series }
      : {
          jobId: 'j1',
          index: 0,
          ms: 1,
          ok: false,
          error: { name: 'E', message: 'm', stack: '', phase: 'setup' },
          series,
        };
    return JSON.stringify({ type: 'outcomes', credit: 1, items: [item] });
  }
  const s = (label: string, values: unknown[] = [1]) => ({ label, values });

  it('ride in both outcome kinds', () => {
    accepts(outcome([s('loss', [0.5, { a: 1 }])]));
    accepts(outcome([s('loss')], false));
  });

  it('refuse one over maxSeriesPerItem, maxValuesPerAppend, maxLabelLength, the label pattern, maxDataDepth', () => {
    accepts(outcome(many(L.maxSeriesPerItem, (i) => s(`l${i}`))));
    refuses(outcome(many(L.maxSeriesPerItem + 1, (i) => s(`l${i}`))));
    accepts(
      outcome([
        s(
          'x',
          many(L.maxValuesPerAppend, () => 1),
        ),
      ]),
    );
    refuses(
      outcome([
        s(
          'x',
          many(L.maxValuesPerAppend + 1, () => 1),
        ),
      ]),
    );
    accepts(outcome([s('a'.repeat(L.maxLabelLength))]));
    refuses(outcome([s('a'.repeat(L.maxLabelLength + 1))]));
    accepts(outcome([s('train/loss:step 1.x-y_z')]));
    refuses(outcome([s('bad"label')]));
    refuses(outcome([s('')]));
    accepts(outcome([s('x', [nested(L.maxDataDepth)])]));
    refuses(outcome([s('x', [nested(L.maxDataDepth + 1)])]), /nested deeper than 33/);
  });

  it('must hold bytes tags that decode', () => {
    const good = { '$tabgrid.bytes': 'Float64Array', base64: 'AAAAAAAA+D8=' };
    accepts(outcome([s('x', [good])]));
    refuses(outcome([s('x', [{ '$tabgrid.bytes': 'Float64Array', base64: 'AAA' }])]));
  });
});

describe('server → worker frames of the task model', () => {
  it('decode messages, limit, a job with its Setup bound and a cancel with its reason', () => {
    const frames = [
      { type: 'messages', jobId: 'j', items: [{ seq: 1, data: { go: 1 } }] },
      { type: 'limit', jobId: 'j', what: 'series' },
      {
        type: 'job',
        jobId: 'j',
        program: 'function Run(){}',
        args: null,
        timeoutMs: 10,
        setupTimeoutMs: 5,
        progressTimeoutMs: 1_000,
      },
      { type: 'cancel', jobId: 'j', reason: 'done' },
    ];
    for (const frame of frames) expect(decodeServerToWorker(JSON.stringify(frame))).toEqual(frame);
  });

  it('refuse one message over maxMessagesPerFrame and an unknown cancel reason', () => {
    const items = many(L.maxMessagesPerFrame + 1, (i) => ({ seq: i + 1, data: i }));
    expect(() =>
      decodeServerToWorker(JSON.stringify({ type: 'messages', jobId: 'j', items })),
    ).toThrow(/Invalid server frame/);
    expect(() =>
      decodeServerToWorker(JSON.stringify({ type: 'cancel', jobId: 'j', reason: 'bored' })),
    ).toThrow(/Invalid server frame/);
  });
});

describe('sdk requests and feed pushes of the task model', () => {
  it('bound a follow, a tell and a note', () => {
    const follow = { jobId: 'j', subscriptionId: 's', feed: 'series', label: 'loss', from: 0 };
    expect(decodeSdkRequest['job:follow'](follow)).toEqual(follow);
    expect(() => decodeSdkRequest['job:follow']({ ...follow, feed: 'stdout' })).toThrow();
    expect(() => decodeSdkRequest['job:follow']({ ...follow, label: 'a"b' })).toThrow();
    expect(() => decodeSdkRequest['job:tell']({ jobId: 'j', messageId: '', data: 1 })).toThrow();
    const text = 'n'.repeat(TASK_LIMITS.maxNoteLength);
    expect(decodeSdkRequest['note:add']({ text })).toEqual({ text });
    expect(() => decodeSdkRequest['note:add']({ text: `${text}n` })).toThrow();
  });

  it("refuse a push whose items are not its feed's", () => {
    const line = {
      seq: 1,
      index: 0,
      level: 'warn',
      message: 'm',
      count: 2,
      workerId: 'w',
      at: 'x',
    };
    const push = { subscriptionId: 's', jobId: 'j', feed: 'logs', items: [line] };
    expect(decodeFeedPush(push)).toEqual(push);
    expect(() => decodeFeedPush({ ...push, feed: 'series' })).toThrow(/Invalid job:feed push/);
    expect(() => decodeFeedPush({ ...push, items: many(2_001, () => line) })).toThrow();
  });
});

describe('jsonByteLength', () => {
  it('counts what JSON.stringify writes, in UTF-8', () => {
    const values = [
      null,
      true,
      12.5,
      'a"b\\c\n\u0001é€😀',
      [1, [2, { k: 'v' }], []],
      { a: 1, 'b"': [null, false] },
    ];
    for (const value of values) {
      expect(jsonByteLength(value, 1e6)).toBe(Buffer.byteLength(JSON.stringify(value)));
    }
  });

  it('stops counting past the bound', () => {
    expect(jsonByteLength('x'.repeat(100), 102)).toBe(102);
    expect(jsonByteLength('x'.repeat(100), 101)).toBe(Infinity);
    expect(jsonByteLength('x'.repeat(100), 50)).toBe(Infinity);
    expect(
      jsonByteLength(
        many(100, () => 1),
        10,
      ),
    ).toBe(Infinity);
  });
});

describe('the task limits users read', () => {
  it('name the count and the cap in the dropped line', () => {
    expect(droppedLinesMessage(1_204)).toBe('1,204 lines dropped (limit 1,000 per task)');
  });
});

describe('reportFrames', () => {
  const bytes = (text: string) => new TextEncoder().encode(text).length;
  const itemsOf = (frames: string[]) =>
    frames.flatMap((frame) => {
      const message = decodeWorkerToServer(frame);
      if (message.type !== 'report') throw new Error(`not a report: ${message.type}`);
      return message.items;
    });

  it('counts UTF-8 bytes exactly, surrogate pairs and lone surrogates included', () => {
    for (const text of ['plain', 'é', '€', '😀', '\ud800', 'a\udc00b', JSON.stringify('\ud800')]) {
      expect(utf8Length(text)).toBe(bytes(text));
    }
  });

  it('writes frames within the byte cap, halving entries too big for one, lines in order', () => {
    // 256 lines of 2,000 three-byte characters: ~1.5 MB in one entry, and a small one after it.
    const heavy = Array.from({ length: 256 }, (_, i) => log(`${i}:${'€'.repeat(1_990)}`));
    const items: TaskReport[] = [
      {
        jobId: 'j1',
        index: 0,
        progress: 0.5,
        logs: heavy as TaskReport['logs'],
        events: [event('a'), event('b')],
      },
      { jobId: 'j1', index: 1, progress: 1 },
    ];
    const frames = reportFrames(items);
    expect(frames.length).toBeGreaterThanOrEqual(6);
    for (const frame of frames) expect(bytes(frame)).toBeLessThanOrEqual(L.maxReportFrameBytes);
    const sent = itemsOf(frames);
    expect(sent.flatMap((item) => item.logs ?? []).map((l) => l.message)).toEqual(
      heavy.map((l) => l.message),
    );
    expect(sent.flatMap((item) => item.events ?? []).map((e) => e.data)).toEqual(['a', 'b']);
    expect(sent.filter((item) => item.progress !== undefined).map((i) => i.progress)).toEqual([
      0.5, 1,
    ]);
  });

  it('puts at most maxReportItems entries in one frame', () => {
    const items = Array.from({ length: L.maxReportItems + 1 }, (_, index) => ({
      jobId: 'j1',
      index,
      progress: null,
    }));
    const frames = reportFrames(items);
    expect(frames).toHaveLength(2);
    expect(itemsOf(frames)).toHaveLength(L.maxReportItems + 1);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LocalJob } from './chunk';
import type { ThreadToPage } from '@tabgrid/job-runtime/sandbox-protocol';
import { STEAL_AFTER_MS, STEAL_AHEAD_MS, SUSPECT_TIMEOUT_MS } from './thread-pool';
import { job, outcome, results, setup, tasks, type FakeThread } from './testing/pool-harness';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ThreadPool', () => {
  it('loads the job, runs a chunk and takes the next one when it is done', () => {
    const { host, outcomes, run } = setup([
      { job, tasks: tasks(0, 1), exact: false },
      { job, tasks: tasks(2), exact: false },
    ]);
    const [thread] = host.threads;
    if (!thread) throw new Error('no thread');
    expect(thread.sent[0]).toMatchObject({ type: 'load', jobId: 'j' });
    const first = run(thread);
    expect(first).toMatchObject({
      type: 'run',
      tasks: JSON.stringify(tasks(0, 1)),
      flushEach: false,
    });
    thread.reply({ type: 'ready' });
    thread.reply(results((first as { chunkId: number }).chunkId, [0, 1], { done: true }));
    expect(outcomes).toEqual([outcome(0), outcome(1)]);
    expect(thread.sent.filter((m) => m.type === 'run')).toHaveLength(2);
    expect(thread.sent.filter((m) => m.type === 'load')).toHaveLength(1);
  });

  it('blames the one unreported task on timeout, re-queues the rest and respawns', () => {
    const { host, outcomes, requeued, run } = setup([{ job, tasks: tasks(0, 1, 2), exact: false }]);
    const thread = host.threads[0] as FakeThread;
    const { chunkId } = run(thread) as { chunkId: number };
    thread.reply({ type: 'ready' });
    thread.reply({ type: 'loaded', setup: false, teardown: false });
    thread.reply(results(chunkId, [0]));
    // Two tasks unreported: which one hangs is not known, so nothing is blamed yet.
    vi.advanceTimersByTime(1_059);
    expect(host.terminated).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(host.terminated).toEqual([1]);
    expect(thread.closed).toBe(true);
    expect(outcomes).toEqual([outcome(0)]);
    expect(requeued).toEqual([{ tasks: tasks(1, 2), suspect: true }]);
    expect(host.threads).toHaveLength(2);
  });

  it('reports a TimeoutError when the hung task is certain (exact chunk)', () => {
    const { host, outcomes, requeued, run } = setup([{ job, tasks: tasks(1, 2), exact: true }]);
    const thread = host.threads[0] as FakeThread;
    expect(run(thread)).toMatchObject({ flushEach: true });
    thread.reply({ type: 'ready' });
    thread.reply({ type: 'loaded', setup: false, teardown: false });
    vi.advanceTimersByTime(2_000);
    expect(outcomes.map((text) => JSON.parse(text) as unknown)).toEqual([
      {
        jobId: 'j',
        index: 1,
        ms: expect.any(Number),
        ok: false,
        error: {
          name: 'TimeoutError',
          message: 'Run did not finish within 1000 ms',
          stack: '',
          timedOut: true,
        },
      },
    ]);
    expect(requeued).toEqual([{ tasks: tasks(2), suspect: false }]);
  });

  it('pins a suspect down quickly when the job timeout is long', () => {
    const slow: LocalJob = { ...job, timeoutMs: 60_000 };
    const { host, outcomes } = setup([{ job: slow, tasks: tasks(4, 5), exact: true }]);
    const thread = host.threads[0] as FakeThread;
    thread.reply({ type: 'ready' });
    thread.reply({ type: 'loaded', setup: false, teardown: false });
    vi.advanceTimersByTime(SUSPECT_TIMEOUT_MS + 100);
    expect(host.terminated).toEqual([1]);
    expect(outcomes.map((text) => JSON.parse(text) as unknown)).toMatchObject([
      {
        index: 4,
        ms: 60_000,
        error: { message: 'Run did not finish within 60000 ms', timedOut: true },
      },
    ]);
  });

  it('gives a starting worker extra time, but not once it is ready', () => {
    const { host } = setup([{ job, tasks: tasks(0), exact: false }]);
    const thread = host.threads[0] as FakeThread;
    vi.advanceTimersByTime(3_000);
    expect(host.terminated).toEqual([]);
    thread.reply({ type: 'ready' });
    vi.advanceTimersByTime(1_100);
    expect(host.terminated).toEqual([1]);
  });

  it('re-queues (does not fail) a chunk whose worker never started', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { host, outcomes, requeued } = setup([{ job, tasks: tasks(0, 1), exact: false }]);
    vi.advanceTimersByTime(10_000);
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
    expect(host.terminated).toContain(1);
    expect(outcomes).toEqual([]);
    expect(requeued[0]).toEqual({ tasks: tasks(0, 1), suspect: false });
  });

  it('gives each job a fresh worker', () => {
    const other: LocalJob = { ...job, key: 2, jobId: 'k' };
    const { host, run } = setup([
      { job, tasks: tasks(0), exact: false },
      { job: other, tasks: tasks(0), exact: false },
    ]);
    const first = host.threads[0] as FakeThread;
    const { chunkId } = run(first) as { chunkId: number };
    first.reply(results(chunkId, [0], { done: true }));
    expect(host.terminated).toEqual([1]);
    const second = host.threads[1] as FakeThread;
    expect(second.sent[0]).toMatchObject({ type: 'load', jobId: 'k' });
  });

  it('abort() stops the threads of one job and returns their unreported tasks', () => {
    const { host, pool, run } = setup([{ job, tasks: tasks(0, 1, 2), exact: false }]);
    const thread = host.threads[0] as FakeThread;
    const { chunkId } = run(thread) as { chunkId: number };
    thread.reply(results(chunkId, [0]));
    expect(pool.abort(2)).toEqual([]);
    expect(pool.abort(1)).toEqual([{ job, tasks: tasks(1, 2), exact: false }]);
    expect(host.terminated).toEqual([1]);
    // A late flush from the dead worker's port is ignored.
    thread.reply(results(chunkId, [1], { done: true }));
    expect(pool.runningTasks()).toEqual([]);
  });

  it('steals the rest of a long chunk for an idle thread', () => {
    const range = Array.from({ length: 10 }, (_, i) => i);
    const { host, requeued, run } = setup([{ job, tasks: tasks(...range), exact: false }], 2);
    const [busy, idle] = host.threads as [FakeThread, FakeThread];
    busy.reply({ type: 'ready' });
    busy.reply({ type: 'loaded', setup: false, teardown: false });
    expect(run(idle)).toBeUndefined();
    const { chunkId } = run(busy) as { chunkId: number };
    const stops = () => busy.sent.filter((m) => m.type === 'stop');
    vi.advanceTimersByTime(STEAL_AFTER_MS - 1);
    expect(stops()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(stops()).toEqual([{ type: 'stop', chunkId }]);
    busy.reply(results(chunkId, [0, 1], { ms: 40, done: true }));
    expect(requeued).toEqual([{ tasks: tasks(...range.slice(2)), suspect: false }]);
  });

  it('leaves short chunks alone', () => {
    const { host } = setup([{ job, tasks: tasks(0, 1, 2), exact: false }], 2);
    const busy = host.threads[0] as FakeThread;
    busy.reply({ type: 'ready' });
    const { chunkId } = busy.sent.find((m) => m.type === 'run') as { chunkId: number };
    vi.advanceTimersByTime(STEAL_AFTER_MS / 2);
    busy.reply(results(chunkId, [0, 1, 2], { ms: 1, done: true }));
    vi.advanceTimersByTime(STEAL_AFTER_MS * 2);
    expect(busy.sent.filter((m) => m.type === 'stop')).toEqual([]);
  });

  it('steals ahead, before any thread idles, from a chunk whose timings show much work left', () => {
    const range = Array.from({ length: 10 }, (_, i) => i);
    for (const [ms, expected] of [
      [STEAL_AHEAD_MS, 1], // 9 left × 40 ms each
      [1, 0], // 9 left × 1 ms: not worth a stop
    ] as const) {
      const { host, run } = setup(
        [
          { job, tasks: tasks(...range), exact: false },
          { job, tasks: tasks(10, 11), exact: false },
        ],
        2,
      );
      const [long, short] = host.threads as [FakeThread, FakeThread];
      expect(run(short)).toBeDefined(); // both threads busy, nothing queued
      const { chunkId } = run(long) as { chunkId: number };
      vi.advanceTimersByTime(STEAL_AFTER_MS);
      long.reply(results(chunkId, [0], { ms }));
      expect(long.sent.filter((m) => m.type === 'stop')).toHaveLength(expected);
    }
  });
});

describe('ThreadPool: a thread whose job code subverted its runtime', () => {
  const text = (fields: Record<string, unknown>) =>
    JSON.stringify({ jobId: 'j', index: 0, ms: 0, ok: true, value: 0, ...fields });
  const forge = (chunkId: number, outcomes: string, count = 1, failures = 0): ThreadToPage => ({
    type: 'results',
    chunkId,
    outcomes,
    count,
    failures,
    ms: 0,
    done: true,
    tel: '',
  });

  function faulty() {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { host, pool, outcomes, requeued, faults, run } = setup([
      { job, tasks: tasks(0, 1), exact: false },
    ]);
    const thread = host.threads[0] as FakeThread;
    const { chunkId } = run(thread) as { chunkId: number };
    thread.reply({ type: 'ready' });
    return { host, pool, outcomes, requeued, thread, chunkId, faults, warn };
  }

  // Each forged message is paired with the honest one it differs from, which the pool accepts:
  // the only reason for the drop is the forged part.
  const cases: [string, (chunkId: number) => ThreadToPage, RegExp][] = [
    [
      'an outcome for another job',
      (c) => forge(c, text({ jobId: 'other' }) + ',' + text({ index: 1 }), 2),
      /names another job/,
    ],
    [
      'an outcome for a task it was not given',
      (c) => forge(c, text({ index: 7 }) + ',' + text({ index: 1 }), 2),
      /not for the task given \(0\)/,
    ],
    [
      'outcomes out of chunk order',
      (c) => forge(c, text({ index: 1 }) + ',' + text({ index: 0 }), 2),
      /not for the task given/,
    ],
    [
      'a value that smuggles in an extra outcome',
      (c) =>
        forge(c, text({ index: 0 }).slice(0, -1) + '},' + text({ jobId: 'other', index: 1 }), 1),
      /2 outcomes where the message says 1/,
    ],
    ['text that is not JSON', (c) => forge(c, '{"jobId":"j",', 1), /not JSON/],
    [
      'a timeout only the page may declare',
      (c) =>
        forge(
          c,
          text({
            ok: false,
            value: undefined,
            error: { name: 'E', message: 'm', stack: '', timedOut: true },
          }),
          1,
          1,
        ),
      /malformed error/,
    ],
    [
      'a value nested deeper than MAX_VALUE_DEPTH',
      (c) => forge(c, text({ value: JSON.parse('['.repeat(101) + ']'.repeat(101)) as unknown }), 1),
      /nested deeper than 100 levels/,
    ],
    [
      'an error message longer than the protocol allows',
      (c) =>
        forge(
          c,
          text({
            ok: false,
            value: undefined,
            error: { name: 'E', message: 'm'.repeat(65_537), stack: '' },
          }),
          1,
          1,
        ),
      /error longer than WORKER_LIMITS allow/,
    ],
    ['an ms beyond the limit', (c) => forge(c, text({ ms: 1e12 }), 1), /ms within the limit/],
    [
      'a bytes tag that does not decode',
      (c) => forge(c, text({ value: { '$tabgrid.bytes': 'Nope', base64: '' } }), 1),
      /bytes tag/,
    ],
    ['results for a chunk it is not running', (c) => forge(c + 1, text({}), 1), /chunk/],
    [
      'a series label the protocol refuses',
      (c) => forge(c, text({ series: [{ label: 'bad!', values: [1] }] }), 1),
      /series label/,
    ],
    [
      'series values nested deeper than the data depth',
      (c) =>
        forge(
          c,
          text({ series: [{ label: 'x', values: [JSON.parse('['.repeat(33) + ']'.repeat(33))] }] }),
          1,
        ),
      /nested deeper than 32/,
    ],
    [
      'an error phase only Setup may have',
      (c) =>
        forge(
          c,
          text({
            ok: false,
            value: undefined,
            error: { name: 'E', message: 'm', stack: '', phase: 'run' },
          }),
          1,
          1,
        ),
      /malformed error/,
    ],
    [
      'more outcomes than tasks',
      (c) => forge(c, [0, 1, 2].map((index) => text({ index })).join(','), 3),
      /more outcomes/,
    ],
    [
      'a message outside the thread protocol',
      () => ({ type: 'hello' }) as unknown as ThreadToPage,
      /not part of the thread protocol/,
    ],
  ];

  for (const [what, message, reason] of cases) {
    it(`drops ${what}, counts it, fails the thread's tasks and replaces the thread`, () => {
      const { host, pool, outcomes, requeued, thread, chunkId, faults, warn } = faulty();
      thread.reply(message(chunkId));
      warn.mockRestore();
      expect(pool.faults).toBe(1);
      expect(faults).toEqual([{ job: 'j', reason: expect.stringMatching(reason) }]);
      // Nothing of the forged text went on; the page's own failures for both tasks did.
      expect(outcomes.map((o) => JSON.parse(o) as unknown)).toEqual(
        [0, 1].map((index) => ({
          jobId: 'j',
          index,
          ms: 0,
          ok: false,
          error: { name: 'SandboxViolation', message: expect.stringMatching(reason), stack: '' },
        })),
      );
      expect(requeued).toEqual([]);
      expect(host.terminated).toEqual([1]);
      expect(host.threads).toHaveLength(2);
    });
  }

  it('accepts the honest counterpart of every forged message above', () => {
    const { pool, outcomes, thread, chunkId, faults, warn } = faulty();
    thread.reply(
      forge(
        chunkId,
        text({
          value: JSON.parse('['.repeat(100) + ']'.repeat(100)) as unknown,
          series: [
            { label: 'loss/a: b-c.d', values: [JSON.parse('['.repeat(32) + ']'.repeat(32))] },
          ],
        }) +
          ',' +
          text({
            index: 1,
            ok: false,
            value: undefined,
            error: { name: 'E', message: 'm'.repeat(65_536), stack: '', phase: 'setup' },
          }),
        2,
        1,
      ),
    );
    warn.mockRestore();
    expect(pool.faults).toBe(0);
    expect(faults).toEqual([]);
    expect(outcomes).toHaveLength(2);
  });
});

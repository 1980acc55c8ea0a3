import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LocalJob } from './chunk';
import type { ThreadToPage } from '@tabgrid/job-runtime/sandbox-protocol';
import { TEARDOWN_DEADLINE_MS } from './thread-lifecycle';
import { job, outcome, results, setup, tasks, type FakeThread } from './testing/pool-harness';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const chunkIdOf = (thread: FakeThread, nth = 0) =>
  (thread.sent.filter((m) => m.type === 'run')[nth] as { chunkId: number }).chunkId;

describe('Setup in the pool', () => {
  it("a Setup past setupTimeoutMs fails the chunk as `setup`, and the job's later tasks at once", () => {
    const slow: LocalJob = { ...job, setupTimeoutMs: 500, timeoutMs: 60_000, messages: [] };
    const { host, outcomes } = setup([
      { job: slow, tasks: tasks(0, 1), exact: false },
      { job: slow, tasks: tasks(2), exact: false },
    ]);
    const thread = host.threads[0] as FakeThread;
    thread.reply({ type: 'ready' });
    thread.reply({ type: 'loaded', setup: true, teardown: false });
    vi.advanceTimersByTime(499);
    expect(host.terminated).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(host.terminated).toEqual([1]);
    const error = {
      name: 'TimeoutError',
      message: 'Setup did not finish within setupTimeoutMs (500 ms)',
      stack: '',
      timedOut: true,
      phase: 'setup',
    };
    expect(outcomes.map((text) => JSON.parse(text) as unknown)).toEqual(
      [0, 1, 2].map((index) => ({ jobId: 'j', index, ms: 0, ok: false, error })),
    );
    // Task 2 never reached a thread: the fresh one was given nothing.
    expect(host.threads[1]!.sent.filter((m) => m.type === 'load')).toHaveLength(0);
  });

  it('a finished Setup hands its report on, and the task limit applies again', () => {
    const slowTasks: LocalJob = { ...job, setupTimeoutMs: 100, timeoutMs: 5_000, messages: [] };
    const { host, reports, outcomes } = setup([{ job: slowTasks, tasks: tasks(0), exact: false }]);
    const thread = host.threads[0] as FakeThread;
    thread.reply({ type: 'ready' });
    thread.reply({ type: 'loaded', setup: true, teardown: false });
    vi.advanceTimersByTime(80);
    const tel = JSON.stringify({ index: null, setup: { ms: 80, ok: true } });
    thread.reply({ type: 'setup', ok: true, ms: 80, tel });
    expect(reports).toEqual([{ job: 'j', tel }]);
    vi.advanceTimersByTime(1_000);
    expect(host.terminated).toEqual([]);
    thread.reply(results(chunkIdOf(thread), [0], { done: true }));
    expect(outcomes).toEqual([outcome(0)]);
  });
});

describe('one realm per job', () => {
  const other: LocalJob = { ...job, key: 2, jobId: 'other', messages: [] };

  it('never runs another job in a realm that has evaluated a job', () => {
    const { host, run } = setup([
      { job, tasks: tasks(0), exact: false },
      { job: other, tasks: tasks(0), exact: false },
      { job, tasks: tasks(1), exact: false },
    ]);
    const first = host.threads[0] as FakeThread;
    first.reply({ type: 'ready' });
    first.reply(results((run(first) as { chunkId: number }).chunkId, [0], { done: true }));
    // The next chunk is another job's: a fresh worker loads it, the old one is terminated.
    expect(host.terminated).toEqual([1]);
    const second = host.threads[1] as FakeThread;
    expect(second.sent[0]).toMatchObject({ type: 'load', jobId: 'other' });
    expect(first.sent.filter((m) => m.type === 'load')).toHaveLength(1);
    second.reply({ type: 'ready' });
    const done: ThreadToPage = {
      ...results((run(second) as { chunkId: number }).chunkId, [0], { done: true }),
    };
    second.reply({
      ...done,
      type: 'results',
      outcomes: JSON.stringify({ jobId: 'other', index: 0, ms: 0, ok: true, value: 0 }),
    } as ThreadToPage);
    expect(host.terminated).toEqual([1, 2]);
    expect((host.threads[2] as FakeThread).sent[0]).toMatchObject({ type: 'load', jobId: 'j' });
  });
});

describe('Teardown in the pool', () => {
  function switchJobs(teardown: boolean) {
    const other: LocalJob = { ...job, key: 2, jobId: 'k', messages: [] };
    const harness = setup([
      { job, tasks: tasks(0), exact: false },
      { job: other, tasks: tasks(0), exact: false },
    ]);
    const first = harness.host.threads[0] as FakeThread;
    first.reply({ type: 'ready' });
    first.reply({ type: 'loaded', setup: false, teardown });
    first.reply(results(chunkIdOf(first), [0], { done: true }));
    return { ...harness, first };
  }

  it('a thread leaving its job runs Teardown; it ends at tornDown and its lines are reported', () => {
    const { host, first, reports } = switchJobs(true);
    expect(first.sent.at(-1)).toEqual({ type: 'teardown' });
    expect(host.terminated).toEqual([]);
    // The other job already runs on a fresh thread meanwhile.
    expect(host.threads[1]!.sent[0]).toMatchObject({ type: 'load', jobId: 'k' });
    const tel = JSON.stringify({
      index: null,
      logs: [{ level: 'log', message: 'bye', count: 1, at: 1 }],
    });
    first.reply({ type: 'tornDown', tel });
    expect(host.terminated).toEqual([1]);
    expect(reports).toEqual([{ job: 'j', tel, jobOnly: true }]);
    vi.advanceTimersByTime(TEARDOWN_DEADLINE_MS * 2);
    expect(reports).toHaveLength(1);
  });

  it('a Teardown past its deadline is ended with a warn line', () => {
    const { host, reports } = switchJobs(true);
    vi.advanceTimersByTime(TEARDOWN_DEADLINE_MS - 1);
    expect(host.terminated).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(host.terminated).toEqual([1]);
    expect(JSON.parse(reports[0]!.tel)).toMatchObject({
      index: null,
      logs: [
        { level: 'warn', message: 'Teardown did not finish within 2 s; the thread was ended' },
      ],
    });
  });

  it('a program without Teardown is ended at once, as before', () => {
    const { host, first } = switchJobs(false);
    expect(host.terminated).toEqual([1]);
    expect(first.sent.some((m) => m.type === 'teardown')).toBe(false);
  });

  it("abort(job) retires that job's idle threads too (the job is done), not the others'", () => {
    const { host, pool } = setup([{ job, tasks: tasks(0), exact: false }], 2);
    const [busy, idle] = host.threads as [FakeThread, FakeThread];
    busy.reply({ type: 'ready' });
    busy.reply({ type: 'loaded', setup: false, teardown: true });
    busy.reply(results(chunkIdOf(busy), [0], { done: true }));
    expect(pool.abort(job.key)).toEqual([]);
    expect(busy.sent.at(-1)).toEqual({ type: 'teardown' });
    expect(idle.sent).toEqual([]);
    busy.reply({ type: 'tornDown', tel: '' });
    expect(host.terminated).toEqual([1]);
    expect(host.threads).toHaveLength(3);
  });
});

describe('messages and reports in the pool', () => {
  it('sends the backlog after load, live messages to the threads of the job, limits too', () => {
    const told: LocalJob = {
      ...job,
      messages: [{ seq: 1, json: '{"a":1}' }],
      seriesFull: 'full',
    };
    const { host, pool } = setup([{ job: told, tasks: tasks(0), exact: false }]);
    const thread = host.threads[0] as FakeThread;
    expect(thread.sent.map((m) => m.type)).toEqual(['load', 'message', 'limit', 'run']);
    pool.tell(told, 2, '"b"');
    pool.tell({ ...told, key: 9 }, 3, '"other job"');
    expect(thread.sent.at(-1)).toEqual({ type: 'message', seq: 2, json: '"b"' });
  });

  it("hands a results post's report on before its outcomes; says when tasks start", () => {
    const watched: LocalJob = { ...job, progressTimeoutMs: 5_000, messages: [] };
    const { host, reports, outcomes, started, order } = setup([
      { job: watched, tasks: tasks(4, 5), exact: false },
    ]);
    const thread = host.threads[0] as FakeThread;
    thread.reply({ type: 'ready' });
    expect(started).toEqual([4]);
    const tel = JSON.stringify({
      index: 4,
      logs: [{ level: 'log', message: 'x', count: 1, at: 1 }],
    });
    thread.reply(results(chunkIdOf(thread), [4], { tel }));
    expect(reports).toEqual([{ job: 'j', tel }]);
    expect(order).toEqual(['report', 'outcomes']);
    expect(outcomes).toEqual([outcome(4)]);
    expect(started).toEqual([4, 5]);
    thread.reply({ type: 'tel', tel: JSON.stringify({ index: 5, progress: 0.5 }) });
    expect(reports).toHaveLength(2);
  });
});

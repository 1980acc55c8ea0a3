import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket } from '../connection/testing/fake-socket';
import { FakeHost, type FakeThread } from '../sandbox/testing/pool-harness';
import { VolunteerRuntime } from './volunteer-runtime';

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubGlobal('WebSocket', FakeSocket);
  vi.stubGlobal('navigator', { userAgent: 'test' });
  vi.stubGlobal('document', { visibilityState: 'visible' });
  vi.stubGlobal('window', { addEventListener: () => undefined });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const GPU = { webgpu: { fallback: true, limits: { maxBufferSize: 1024 } } };

function tab(cpuCap = 100) {
  const host = new FakeHost();
  const runtime = new VolunteerRuntime('ws://grid/ws/worker', 1, false, host, {
    capabilities: GPU,
    cpuCap,
  });
  runtime.start();
  const socket = FakeSocket.last!;
  socket.open();
  socket.frame({
    type: 'welcome',
    protocol: 2,
    workerId: 'w1',
    operator: { name: 'Lab', link: 'https://example.org' },
  });
  const sent = () => socket.sent.map((text) => JSON.parse(text) as Record<string, unknown>);
  return { host, runtime, socket, sent };
}

const job = {
  type: 'job',
  jobId: 'j',
  program: 'function Run(d) { return d; }',
  args: null,
  timeoutMs: 60_000,
  setupTimeoutMs: 500,
  public: { name: 'Squares' },
};
const tasks = (from: number, n: number) => ({
  type: 'tasks',
  jobId: 'j',
  items: Array.from({ length: n }, (_, i) => ({ index: from + i, input: i })),
});

/** The thread answers its running chunk in full. */
function finishChunk(thread: FakeThread): void {
  const run = thread.sent.filter((m) => m.type === 'run').at(-1) as {
    chunkId: number;
    tasks: string;
  };
  const items = JSON.parse(run.tasks) as { index: number }[];
  thread.reply({
    type: 'results',
    chunkId: run.chunkId,
    outcomes: items
      .map(({ index }) => JSON.stringify({ jobId: 'j', index, ms: 1, ok: true, value: 0 }))
      .join(','),
    count: items.length,
    failures: 0,
    ms: items.length,
    done: true,
    tel: '',
  });
}

describe('VolunteerRuntime: volunteer controls', () => {
  it('says at hello what it offers, and shows the operator and the running job by its public name', () => {
    const { runtime, socket, sent, host } = tab();
    expect(sent()[0]).toMatchObject({ type: 'hello', capabilities: GPU });
    socket.frame(job);
    socket.frame(tasks(0, 2));
    host.threads[0]!.reply({ type: 'ready' });
    vi.advanceTimersByTime(600);
    const snapshot = runtime.getSnapshot();
    expect(snapshot.operator).toEqual({ name: 'Lab', link: 'https://example.org' });
    expect(snapshot.currentJob).toEqual({ id: 'j', public: { name: 'Squares' } });
    finishChunk(host.threads[0]!);
    vi.advanceTimersByTime(600);
    expect(runtime.getSnapshot().currentJob).toBeUndefined(); // idle: cleared
  });

  it('a hidden hold hands back queued and running tasks at once; lifting it grants credit again', () => {
    const { runtime, socket, sent } = tab();
    socket.frame(job);
    socket.frame(tasks(0, 20));
    const before = sent().length;
    runtime.hold('hidden', true);
    const release = sent()
      .slice(before)
      .find((m) => m.type === 'release') as { tasks: { index: number }[] };
    // Every task it held, the running chunk's too.
    expect(release.tasks.map((t) => t.index).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(runtime.getSnapshot()).toMatchObject({ paused: true, holds: ['hidden'] });
    // Tasks that were already on their way go straight back too.
    socket.frame(tasks(20, 1));
    expect(sent().at(-1)).toEqual({ type: 'release', tasks: [{ jobId: 'j', index: 20 }] });
    runtime.hold('user', true);
    runtime.hold('hidden', false);
    expect(runtime.getSnapshot()).toMatchObject({ paused: true, holds: ['user'] });
    const granted = sent().length;
    runtime.hold('user', false);
    expect(sent().slice(granted)).toContainEqual(expect.objectContaining({ type: 'credit' }));
  });

  it('a 50% cap rests a thread as long as its chunk ran before it gets the next one', async () => {
    const { host, socket } = tab(50);
    socket.frame(job);
    socket.frame(tasks(0, 40));
    const thread = host.threads[0]!;
    thread.reply({ type: 'ready' });
    const runs = () => thread.sent.filter((m) => m.type === 'run').length;
    expect(runs()).toBe(1);
    await vi.advanceTimersByTimeAsync(30); // the chunk keeps the thread busy 30 ms
    finishChunk(thread);
    expect(runs()).toBe(1); // resting
    await vi.advanceTimersByTimeAsync(25);
    expect(runs()).toBe(1);
    await vi.advanceTimersByTimeAsync(10); // 30 ms of rest have passed
    expect(runs()).toBe(2);
  });

  it('changing the cap hands the queue back, sized for the old cap', () => {
    const { runtime, socket, sent } = tab();
    socket.frame(job);
    socket.frame(tasks(0, 30));
    const before = sent().length;
    runtime.setCpuCap(25);
    const release = sent()
      .slice(before)
      .find((m) => m.type === 'release') as { tasks: unknown[] } | undefined;
    expect(release?.tasks.length).toBeGreaterThan(0);
    expect(runtime.getSnapshot().cpuCap).toBe(25);
  });
});

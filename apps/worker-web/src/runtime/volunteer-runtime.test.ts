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

/** A tab with one thread, connected to a server the test plays. */
function tab() {
  const host = new FakeHost();
  const runtime = new VolunteerRuntime('ws://grid/ws/worker', 1, false, host);
  runtime.start();
  const socket = FakeSocket.last!;
  socket.open();
  socket.frame({ type: 'welcome', protocol: 2, workerId: 'w1' });
  const sentTypes = () => socket.sent.map((text) => (JSON.parse(text) as { type: string }).type);
  return { host, runtime, socket, sentTypes };
}

const job = {
  type: 'job',
  jobId: 'j',
  program: 'function Run(d) { return d; }',
  args: null,
  timeoutMs: 60_000,
  setupTimeoutMs: 500,
};

describe('VolunteerRuntime: the task model', () => {
  it('gives a thread the backlog after its program, then live messages once each, then limits', () => {
    const { host, socket } = tab();
    socket.frame(job);
    socket.frame({ type: 'messages', jobId: 'j', items: [{ seq: 1, data: { a: 1 } }] });
    socket.frame({ type: 'tasks', jobId: 'j', items: [{ index: 0, input: 0 }] });
    const thread = host.threads[0] as FakeThread;
    expect(thread.sent.map((m) => m.type)).toEqual(['load', 'message', 'run']);
    expect(thread.sent[1]).toEqual({ type: 'message', seq: 1, json: '{"a":1}' });
    // A reconnect replays: seq 1 again is not passed on; seq 2 is.
    socket.frame({
      type: 'messages',
      jobId: 'j',
      items: [
        { seq: 1, data: { a: 1 } },
        { seq: 2, data: 'b' },
      ],
    });
    expect(thread.sent.slice(3)).toEqual([{ type: 'message', seq: 2, json: '"b"' }]);
    socket.frame({ type: 'limit', jobId: 'j', what: 'series', maxBytes: 1024 * 1024 });
    expect(thread.sent.at(-1)).toEqual({
      type: 'limit',
      what: 'series',
      message:
        "tabgrid.collect: this job's series reached 1 MB (the limit per job); collect less per task or aggregate first",
    });
  });

  it("sends a task's report before its outcome, and Teardown's lines after the job is done", async () => {
    const { host, socket, sentTypes } = tab();
    socket.frame(job);
    socket.frame({ type: 'tasks', jobId: 'j', items: [{ index: 0, input: 0 }] });
    const thread = host.threads[0] as FakeThread;
    const { chunkId } = thread.sent.find((m) => m.type === 'run') as { chunkId: number };
    thread.reply({ type: 'ready' });
    thread.reply({ type: 'loaded', setup: false, teardown: true });
    const line = { level: 'log', message: 'hi', count: 3, at: 1 };
    thread.reply({
      type: 'results',
      chunkId,
      outcomes: JSON.stringify({ jobId: 'j', index: 0, ms: 1, ok: true, value: 0 }),
      count: 1,
      failures: 0,
      ms: 1,
      done: true,
      tel: JSON.stringify({ index: 0, logs: [line] }),
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(sentTypes().filter((type) => type !== 'hello')).toEqual(['report', 'outcomes']);
    expect(JSON.parse(socket.sent.at(-2)!)).toEqual({
      type: 'report',
      items: [{ jobId: 'j', index: 0, logs: [line] }],
    });

    socket.frame({ type: 'cancel', jobId: 'j', reason: 'done' });
    expect(thread.sent.at(-1)).toEqual({ type: 'teardown' });
    const bye = { level: 'log', message: 'bye', count: 1, at: 2 };
    thread.reply({ type: 'tornDown', tel: JSON.stringify({ index: null, logs: [bye] }) });
    await vi.advanceTimersByTimeAsync(300);
    expect(JSON.parse(socket.sent.at(-1)!)).toEqual({
      type: 'report',
      items: [{ jobId: 'j', index: null, logs: [bye] }],
    });
    expect(host.terminated).toEqual([1]);
  });

  it('reports each task as it starts for a job with progressTimeoutMs', async () => {
    const { host, socket } = tab();
    socket.frame({ ...job, progressTimeoutMs: 5_000 });
    socket.frame({ type: 'tasks', jobId: 'j', items: [{ index: 7, input: 0 }] });
    expect(host.threads[0]!.sent.some((m) => m.type === 'run')).toBe(true);
    await vi.advanceTimersByTimeAsync(300);
    expect(JSON.parse(socket.sent.at(-1)!)).toEqual({
      type: 'report',
      items: [{ jobId: 'j', index: 7, started: true }],
    });
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket } from './testing/fake-socket';
import { WorkerConnection, type WorkerConnectionHandlers } from './worker-connection';

beforeEach(() => {
  vi.stubGlobal('WebSocket', FakeSocket);
  vi.stubGlobal('navigator', { userAgent: 'test' });
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

function connect() {
  const calls: [string, unknown][] = [];
  const record =
    (name: string) =>
    (message?: unknown): void => {
      calls.push([name, message]);
    };
  const handlers: WorkerConnectionHandlers = {
    onOpen: () => ({ threads: 2, credit: 8 }),
    onJob: record('job'),
    onTasks: record('tasks'),
    onCancel: record('cancel'),
    onMessages: record('messages'),
    onLimit: record('limit'),
    onClose: record('close'),
    onStatus: () => undefined,
  };
  const connection = new WorkerConnection('ws://grid/ws/worker', handlers);
  connection.start();
  const socket = FakeSocket.last!;
  socket.open();
  return { calls, socket, connection };
}

describe('WorkerConnection: the task model frames', () => {
  it('hands `messages` and `limit` frames to the runtime, decoded; cancel keeps its reason', () => {
    const { calls, socket } = connect();
    socket.frame({ type: 'messages', jobId: 'j', items: [{ seq: 1, data: { go: 1 } }] });
    socket.frame({ type: 'limit', jobId: 'j', what: 'series', maxBytes: 1024 });
    socket.frame({ type: 'cancel', jobId: 'j', reason: 'done' });
    expect(calls).toEqual([
      ['messages', { type: 'messages', jobId: 'j', items: [{ seq: 1, data: { go: 1 } }] }],
      ['limit', { type: 'limit', jobId: 'j', what: 'series', maxBytes: 1024 }],
      ['cancel', { type: 'cancel', jobId: 'j', reason: 'done' }],
    ]);
  });

  it('closes on a messages frame over the protocol bounds instead of passing it on', () => {
    const { calls, socket } = connect();
    const items = Array.from({ length: 1_001 }, (_, i) => ({ seq: i + 1, data: i }));
    socket.frame({ type: 'messages', jobId: 'j', items });
    expect(calls.map(([name]) => name)).toEqual(['close']);
    expect(socket.readyState).toBe(3);
  });
});

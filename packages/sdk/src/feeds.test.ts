/**
 * The SDK's side of the feeds and of `tell`, against a real socket.io server scripted to push,
 * cut the connection and push again: what the SDK asks for after a reconnect (its cursor), and
 * that it yields every item once. The server's side (a real Grid) is tested in
 * apps/server/src/routes/feeds-sdk.test.ts.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Server, type Socket } from 'socket.io';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { Tabgrid } from './client.js';

type Handler = (socket: Socket, payload: Record<string, unknown>) => unknown;

let http: HttpServer;
let io: Server;
let tg: Tabgrid;
/** What the server answers per request name (`undefined`: no answer at all). */
let handlers: Record<string, Handler>;
/** Every request payload, per name, in arrival order. */
let seen: Record<string, Record<string, unknown>[]>;

const AT = '2026-12-01T15:00:00.000Z';
const log = (seq: number, message = `line ${seq}`) => ({
  seq,
  index: seq % 3 === 0 ? null : seq,
  level: 'log',
  message,
  count: 1,
  workerId: 'w1',
  at: AT,
});

beforeEach(async () => {
  handlers = {};
  seen = {};
  http = createServer();
  io = new Server(http);
  io.on('connection', (socket) => {
    socket.onAny((event: string, payload: Record<string, unknown>, ack: unknown) => {
      (seen[event] ??= []).push(payload);
      const answer = handlers[event]?.(socket, payload);
      if (answer !== undefined && typeof ack === 'function') (ack as (a: unknown) => void)(answer);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  tg = new Tabgrid({ url, token: 't', timeoutMs: 5000, connectTimeoutMs: 5000 });
});

afterEach(async () => {
  await tg.close();
  await new Promise<void>((resolve) => {
    void io.close(() => resolve());
  });
});

const followed = { ok: true, data: { subscribed: true } };

/** Pushes one `job:feed` batch for the follow `payload` answered. */
function push(socket: Socket, payload: Record<string, unknown>, items: unknown[]): void {
  const { subscriptionId, jobId, feed } = payload;
  socket.emit('job:feed', { subscriptionId, jobId, feed, items }, () => undefined);
}

function end(socket: Socket, payload: Record<string, unknown>, reason = 'done'): void {
  socket.emit('job:end', { subscriptionId: payload.subscriptionId, jobId: payload.jobId, reason });
}

describe('job.logs() across reconnects', () => {
  it('follows again from the last seq it got and yields each line once', async () => {
    let follows = 0;
    handlers['job:follow'] = (socket, payload) => {
      follows += 1;
      setTimeout(() => {
        if (follows === 1) {
          push(socket, payload, [log(1), log(2), log(3)]);
          // Cut off after three lines: socket.io leaves reconnecting to the SDK.
          setTimeout(() => socket.disconnect(true), 50);
        } else {
          // A server resending what the client had (a push racing the reconnect) and more.
          push(socket, payload, [log(2), log(3), log(4)]);
          push(socket, payload, [log(5)]);
          end(socket, payload);
        }
      }, 10);
      return followed;
    };
    const lines = [];
    for await (const line of tg.job('j1').logs()) lines.push(line);
    expect(lines.map((l) => l.message)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    // The fields exactly: the wire's seq stays inside the subscription.
    expect(lines[0]).toEqual({
      index: 1,
      level: 'log',
      message: 'line 1',
      count: 1,
      workerId: 'w1',
      at: AT,
    });
    expect(lines[2]!.index).toBeNull();
    const payloads = seen['job:follow']!;
    expect(payloads.map((p) => p.from)).toEqual([0, 3]);
    expect(payloads.map((p) => p.feed)).toEqual(['logs', 'logs']);
    // The same subscription id both times: the server replaces the first, never doubles it.
    expect(new Set(payloads.map((p) => p.subscriptionId)).size).toBe(1);
  });

  it('fails the loop when the server ends the feed with an error', async () => {
    handlers['job:follow'] = (socket, payload) => {
      setTimeout(() => {
        push(socket, payload, [log(1)]);
        socket.emit('job:end', {
          subscriptionId: payload.subscriptionId,
          jobId: payload.jobId,
          reason: 'error',
          message: 'row 2 does not decode',
        });
      }, 10);
      return followed;
    };
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const line of tg.job('j1').logs()) got.push(line.message);
      })(),
    ).rejects.toMatchObject({ code: ErrorCode.INTERNAL, message: 'row 2 does not decode' });
  });

  it('refuses an item that is not a log line (decoded, never cast)', async () => {
    handlers['job:follow'] = (socket, payload) => {
      setTimeout(() => push(socket, payload, [{ seq: 1, index: 0, values: [1] }]), 10);
      return followed;
    };
    await expect(
      (async () => {
        for await (const line of tg.job('j1').logs()) void line;
      })(),
    ).rejects.toMatchObject({ code: ErrorCode.PROTOCOL });
  });
});

describe('job.series(label) and job.progress()', () => {
  it('series: resumes from the outcome seq, typed arrays come back as typed arrays', async () => {
    let follows = 0;
    handlers['job:follow'] = (socket, payload) => {
      follows += 1;
      setTimeout(() => {
        if (follows === 1) {
          push(socket, payload, [{ seq: 4, index: 0, values: [0.5, 0.25] }]);
          setTimeout(() => socket.disconnect(true), 50);
        } else {
          push(socket, payload, [
            {
              seq: 9,
              index: 1,
              // The socket form: a tagged binary attachment, as the server's textToSocketForm.
              values: [
                'x',
                {
                  '$tabgrid.bytes': 'Float32Array',
                  data: Buffer.from(new Float32Array([1, 2]).buffer),
                },
              ],
            },
          ]);
          end(socket, payload);
        }
      }, 10);
      return followed;
    };
    const items = [];
    for await (const item of tg.job('j1').series('loss')) items.push(item);
    expect(items[0]).toEqual({ index: 0, values: [0.5, 0.25] });
    expect(items[1]!.index).toBe(1);
    expect(items[1]!.values[0]).toBe('x');
    expect(items[1]!.values[1]).toEqual(new Float32Array([1, 2]));
    expect(seen['job:follow']!.map((p) => [p.feed, p.label, p.from])).toEqual([
      ['series', 'loss', 0],
      ['series', 'loss', 4],
    ]);
  });

  it('progress: has no cursor, so a reconnect starts again from a snapshot', async () => {
    let follows = 0;
    handlers['job:follow'] = (socket, payload) => {
      follows += 1;
      setTimeout(() => {
        if (follows === 1) {
          push(socket, payload, [{ index: 0, fraction: 0.5, workerId: 'w1', at: AT }]);
          setTimeout(() => socket.disconnect(true), 50);
        } else {
          push(socket, payload, [
            { index: 0, fraction: 0.75, workerId: 'w1', at: AT },
            { index: 1, workerId: 'w1', at: AT },
          ]);
          end(socket, payload);
        }
      }, 10);
      return followed;
    };
    const reports = [];
    for await (const p of tg.job('j1').progress()) reports.push(p);
    expect(reports).toEqual([
      { index: 0, fraction: 0.5, workerId: 'w1', at: AT },
      { index: 0, fraction: 0.75, workerId: 'w1', at: AT },
      // "Alive": no fraction at all, not `fraction: undefined`.
      { index: 1, workerId: 'w1', at: AT },
    ]);
    expect('fraction' in reports[2]!).toBe(false);
    expect(seen['job:follow']!.map((p) => p.from)).toEqual([0, 0]);
  });
});

describe('job.tell(data)', () => {
  it('is resent with the same message id after the connection dropped before the answer', async () => {
    let tells = 0;
    handlers['job:tell'] = (socket) => {
      tells += 1;
      if (tells === 1) {
        // Stored, say, but the answer is lost with the connection.
        setTimeout(() => socket.disconnect(true), 10);
        return undefined;
      }
      return { ok: true, data: { seq: 1 } };
    };
    await expect(tg.job('j1').tell({ go: 1 })).resolves.toEqual({ seq: 1 });
    const payloads = seen['job:tell']!;
    expect(payloads).toHaveLength(2);
    expect(payloads[0]!.messageId).toBe(payloads[1]!.messageId);
    expect(payloads[1]).toMatchObject({ jobId: 'j1', data: { go: 1 } });
    // Another tell is another message.
    handlers['job:tell'] = () => ({ ok: true, data: { seq: 2 } });
    await tg.job('j1').tell({ go: 2 });
    expect(seen['job:tell']![2]!.messageId).not.toBe(payloads[0]!.messageId);
  });

  it("rejects with the server's code (a finished job)", async () => {
    handlers['job:tell'] = () => ({
      ok: false,
      error: { code: ErrorCode.JOB_FINISHED, message: 'job j1 is done' },
    });
    await expect(tg.job('j1').tell(1)).rejects.toMatchObject({ code: ErrorCode.JOB_FINISHED });
  });
});

describe('tg.note(text)', () => {
  it('needs no await: a failure is no unhandled rejection', async () => {
    handlers['note:add'] = () => ({
      ok: false,
      error: { code: ErrorCode.INVALID_REQUEST, message: 'too long' },
    });
    // Not awaited, not caught: vitest fails the run on an unhandled rejection.
    void tg.note('x'.repeat(10));
    const awaited = tg.note('y');
    await expect(awaited).rejects.toMatchObject({ code: ErrorCode.INVALID_REQUEST });
    expect(seen['note:add']?.map((p) => p.text)).toEqual(['x'.repeat(10), 'y']);
  });
});

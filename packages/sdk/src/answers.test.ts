/**
 * What the SDK does with answers that deviate from the protocol: a real socket.io server and a
 * real HTTP server send them, and every one is refused by the protocol's decoders with a
 * TabgridError (nothing is cast and passed on).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { Tabgrid } from './client.js';

type Answer = (payload: unknown) => unknown;

let http: HttpServer;
let io: Server;
let url: string;
let answers: Record<string, Answer>;
let rest: (method: string, path: string) => { status: number; body: string };
let tg: Tabgrid;

beforeEach(async () => {
  answers = {};
  rest = () => ({ status: 500, body: '' });
  http = createServer((req, res) => {
    const { status, body } = rest(req.method ?? '', req.url ?? '');
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  io = new Server(http);
  io.on('connection', (socket) => {
    socket.onAny((event: string, payload: unknown, ack: (answer: unknown) => void) => {
      const answer = answers[event];
      if (answer) ack(answer(payload));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  tg = new Tabgrid({ url, token: 't', timeoutMs: 5000, connectTimeoutMs: 5000 });
});

afterEach(async () => {
  await tg.close();
  await new Promise<void>((resolve) => {
    void io.close(() => resolve());
  });
});

describe('socket.io acknowledgements', () => {
  it('are decoded: data passes, an error answer throws its code', async () => {
    answers['jobs:delete'] = () => ({ ok: true, data: { deleted: 3 } });
    await expect(tg.deleteJobs()).resolves.toBe(3);
    answers['jobs:delete'] = () => ({
      ok: false,
      error: { code: ErrorCode.FORBIDDEN, message: 'A viewer key.' },
    });
    await expect(tg.deleteJobs()).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
      message: 'A viewer key.',
    });
  });

  it('that deviate are refused with TG_ERR_PROTOCOL', async () => {
    answers['jobs:delete'] = () => ({ ok: true, data: { deleted: '3' } });
    await expect(tg.deleteJobs()).rejects.toMatchObject({
      code: ErrorCode.PROTOCOL,
      message: expect.stringContaining('jobs:delete answer'),
    });
    answers['jobs:list'] = () => ({ ok: true, data: [{ id: 'j1' }] });
    await expect(tg.jobs()).rejects.toMatchObject({ code: ErrorCode.PROTOCOL });
    // A code this client does not know (a newer server's) is read, not refused: it becomes
    // TG_ERR_INTERNAL quoting it. A code that is not a TG_ERR_ word is a broken answer.
    answers['job:get'] = () => ({ ok: false, error: { code: 'TG_ERR_MADE_UP', message: 'x' } });
    await expect(tg.job('j1').status()).rejects.toMatchObject({
      code: ErrorCode.INTERNAL,
      message: expect.stringContaining('TG_ERR_MADE_UP'),
    });
    answers['job:get'] = () => ({ ok: false, error: { code: 'MADE_UP', message: 'x' } });
    await expect(tg.job('j1').status()).rejects.toMatchObject({ code: ErrorCode.PROTOCOL });
    answers['job:close'] = () => 'done';
    await expect(tg.job('j1').close()).rejects.toMatchObject({ code: ErrorCode.PROTOCOL });
  });

  it('of a submission must count the whole batch', async () => {
    answers['job:submit'] = () => ({ ok: true, data: { firstIndex: 0, count: 1 } });
    await expect(tg.job('j1').submit([1, 2])).rejects.toMatchObject({
      code: ErrorCode.PROTOCOL,
      message: expect.stringContaining('1 of its 2 tasks'),
    });
  });
});

describe('REST answers (keys)', () => {
  it('an error body is decoded to its code; anything else says the status', async () => {
    rest = () => ({
      status: 404,
      body: JSON.stringify({ error: { code: ErrorCode.KEY_NOT_FOUND, message: 'No key k1.' } }),
    });
    await expect(tg.keys.revoke('k1')).rejects.toMatchObject({ code: ErrorCode.KEY_NOT_FOUND });
    rest = () => ({ status: 502, body: '<html>Bad gateway</html>' });
    await expect(tg.keys.revoke('k1')).rejects.toMatchObject({
      code: ErrorCode.INTERNAL,
      message: expect.stringContaining('HTTP 502'),
    });
    rest = () => ({ status: 403, body: JSON.stringify({ error: { code: 42 } }) });
    await expect(tg.keys.revoke('k1')).rejects.toMatchObject({ code: ErrorCode.INTERNAL });
  });

  it('a key list that deviates is refused with TG_ERR_PROTOCOL', async () => {
    rest = () => ({ status: 200, body: JSON.stringify([{ id: 'k1', name: 'a' }]) });
    await expect(tg.keys.list()).rejects.toMatchObject({ code: ErrorCode.PROTOCOL });
    rest = () => ({ status: 200, body: '{"not":"a list"}' });
    await expect(tg.keys.list()).rejects.toMatchObject({ code: ErrorCode.PROTOCOL });
    rest = () => ({ status: 200, body: 'not json' });
    await expect(tg.keys.list()).rejects.toMatchObject({ code: ErrorCode.PROTOCOL });
  });
});

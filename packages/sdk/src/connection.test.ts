/**
 * A refused connection fails at once: a real socket.io-client against a closed port (and a host
 * that does not resolve) fails its requests without waiting for connectTimeoutMs, while a
 * connection that was up and drops still waits for the server to come back.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Server } from 'socket.io';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { Tabgrid } from './client.js';

const clients: Tabgrid[] = [];
const servers: Array<{ http: HttpServer; io: Server }> = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const tg of clients.splice(0)) await tg.close();
  for (const { io } of servers.splice(0)) await new Promise<void>((r) => void io.close(() => r()));
});

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A socket.io server on `port` answering `jobs:list` with no jobs. */
async function serve(port: number): Promise<{ http: HttpServer; io: Server }> {
  const http = createServer();
  const io = new Server(http);
  io.on('connection', (socket) => {
    socket.on('jobs:list', (_payload: unknown, ack: (a: unknown) => void) =>
      ack({ ok: true, data: [] }),
    );
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const server = { http, io };
  servers.push(server);
  return server;
}

function client(url: string): Tabgrid {
  // A connect timeout no test waits for: a request that fails did so because of the refusal.
  const tg = new Tabgrid({ url, token: 't', timeoutMs: 600_000, connectTimeoutMs: 600_000 });
  clients.push(tg);
  return tg;
}

describe('a refused connection fails at once', () => {
  it('fails the waiting requests with the URL and what to do, not after connectTimeoutMs', async () => {
    // Timers frozen: the connect timeout cannot fire, only the refusal can end the request.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const url = `http://127.0.0.1:${await closedPort()}`;
    const tg = client(url);
    const both = await Promise.allSettled([tg.jobs(), tg.workers()]);
    for (const settled of both) {
      expect(settled.status).toBe('rejected');
      const error = (settled as PromiseRejectedResult).reason as { code: string; message: string };
      expect(error.code).toBe(ErrorCode.DISCONNECTED);
      expect(error.message).toContain(`Cannot reach the Tabgrid server at ${url}`);
      expect(error.message).toMatch(/connection was refused.*ECONNREFUSED/);
      expect(error.message).toMatch(/Start the server .*--url/);
    }
  });

  it('fails a host that does not resolve at once, naming it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const tg = client('http://no-such-host.invalid:8080');
    await expect(tg.jobs()).rejects.toMatchObject({
      code: ErrorCode.DISCONNECTED,
      message: expect.stringMatching(
        /^Cannot reach the Tabgrid server at http:\/\/no-such-host\.invalid:8080: its host name does not resolve/,
      ) as string,
    });
  });

  it('tries again on the next request: the server started meanwhile answers', async () => {
    const port = await closedPort();
    const tg = client(`http://127.0.0.1:${port}`);
    await expect(tg.jobs()).rejects.toMatchObject({ code: ErrorCode.DISCONNECTED });
    await serve(port);
    await expect(tg.jobs()).resolves.toEqual([]);
  });
});

describe('a dropped connection still reconnects', () => {
  it('waits through a restart (refused while it is down) and answers once it is back', async () => {
    const port = await closedPort();
    const first = await serve(port);
    const tg = client(`http://127.0.0.1:${port}`);
    await expect(tg.jobs()).resolves.toEqual([]);
    // Down: every socket closed and nothing listens (reconnects are refused)…
    await new Promise<void>((resolve) => void first.io.close(() => resolve()));
    servers.splice(servers.indexOf(first), 1);
    const waiting = tg.jobs();
    let settled = false;
    void waiting.then(
      () => (settled = true),
      () => (settled = true),
    );
    // …until at least one reconnect has been refused, then back up on the same port.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(settled).toBe(false);
    await serve(port);
    await expect(waiting).resolves.toEqual([]);
  });
});

describe('several nodes (url: [u1, u2, …])', () => {
  const several = (urls: string[]) => {
    const tg = new Tabgrid({ url: urls, token: 't', timeoutMs: 600_000, connectTimeoutMs: 30_000 });
    clients.push(tg);
    return tg;
  };

  it('skips a node that refuses the connection and uses the next', async () => {
    const down = await closedPort();
    const up = await closedPort();
    await serve(up);
    const tg = several([`http://127.0.0.1:${down}`, `http://127.0.0.1:${up}`]);
    await expect(tg.jobs()).resolves.toEqual([]);
  });

  it('fails at once, naming every node, when none can be reached', async () => {
    const urls = [
      `http://127.0.0.1:${await closedPort()}`,
      `http://127.0.0.1:${await closedPort()}`,
    ];
    const error = (await several(urls)
      .jobs()
      .catch((e: unknown) => e)) as {
      code: string;
      message: string;
    };
    expect(error.code).toBe(ErrorCode.DISCONNECTED);
    expect(error.message).toMatch(/^Cannot reach any Tabgrid server: /);
    for (const url of urls) expect(error.message).toContain(`${url}: the connection was refused`);
  });

  it('moves to another node when its node goes away, and its requests carry on there', async () => {
    const first = await closedPort();
    const second = await closedPort();
    const a = await serve(first);
    let askedB = 0;
    const b = await serve(second);
    b.io.on('connection', (socket) => socket.on('jobs:list', () => (askedB += 1)));
    const tg = several([`http://127.0.0.1:${first}`, `http://127.0.0.1:${second}`]);
    await expect(tg.jobs()).resolves.toEqual([]);
    expect(askedB).toBe(0);
    // The first node dies: its sockets close and nothing listens on its port any more.
    await new Promise<void>((resolve) => void a.io.close(() => resolve()));
    servers.splice(servers.indexOf(a), 1);
    await expect(tg.jobs()).resolves.toEqual([]);
    expect(askedB).toBe(1);
  });
});

/**
 * Per-caller limits over real HTTP: error bodies for what Fastify and node answer by themselves,
 * over-deep input, slow bodies, authentication failures, upload size and concurrency.
 */
import { connect, type Socket } from 'node:net';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { io as ioClient } from 'socket.io-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { serverPerFile } from '../testing/vitest.js';
import { UPLOADS_PER_KEY } from './upload-slots.js';

const env = serverPerFile({
  requestTimeoutMs: 1000,
  authThrottle: { maxFailures: 20, windowMs: 60_000 },
});
let port: number;
let alice: string;

async function call(method: string, path: string, body?: string, headers = {}) {
  const res = await fetch(`${env.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${alice}`, ...headers },
    body,
  });
  const text = await res.text();
  let json: { error?: { code: string; message: string } } & Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // not JSON: the assertions below say so
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Sends raw bytes and resolves with everything the server sent back before closing. */
function raw(data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (c: Buffer) => (out += c.toString()));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.write(data);
  });
}

beforeAll(async () => {
  port = Number(new URL(env.url).port);
  const created = await fetch(`${env.url}/api/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.token}` },
    body: JSON.stringify({ name: 'alice', role: 'client' }),
  });
  alice = ((await created.json()) as { secret: string }).secret;
});

async function newJob(): Promise<string> {
  const res = await call('POST', '/api/jobs', '{"program":"function Run(d){return d}"}');
  return res.json.id as string;
}

describe('error bodies', () => {
  it('404, 413, 414 and 431 are { error: { code, message } } with codes from the registry', async () => {
    const notFound = await call('GET', '/api/nothing-here');
    expect(notFound.status).toBe(404);
    expect(notFound.json.error?.code).toBe('TG_ERR_NOT_FOUND');
    expect((await call('GET', '/no/such/page')).json.error?.code).toBe('TG_ERR_NOT_FOUND');

    const tooLarge = await call('POST', '/api/jobs', 'x'.repeat(17 * 1024 * 1024));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.error?.code).toBe('TG_ERR_PAYLOAD_TOO_LARGE');

    const longUrl = await call('GET', `/api/jobs/${'a'.repeat(9000)}`);
    expect(longUrl.status).toBe(414);
    expect(longUrl.json.error?.code).toBe('TG_ERR_URI_TOO_LONG');

    const headers = await raw(
      `GET /api/jobs HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`,
    );
    expect(headers).toMatch(/^HTTP\/1.1 431 /);
    expect(JSON.parse(headers.slice(headers.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: { code: 'TG_ERR_HEADERS_TOO_LARGE' },
    });
  }, 30_000);
});

describe('over-deep input is 400, never 500', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

  it('in a job body, its args, an NDJSON line and a JSON array upload', async () => {
    const body = await call(
      'POST',
      '/api/jobs',
      `{"program":"function Run(d){return d}","args":${deep(10_000)}}`,
    );
    expect(body.status).toBe(400);
    expect(body.json.error).toMatchObject({
      code: 'TG_ERR_INVALID_REQUEST',
      message: expect.stringMatching(/nested deeper than 128 levels/),
    });
    const id = await newJob();
    const ndjson = await call('POST', `/api/jobs/${id}/tasks`, `1\n${deep(10_000)}\n3\n`);
    expect(ndjson.status).toBe(400);
    expect(ndjson.json.error?.message).toMatch(/Line 2 is nested deeper.*1 task\(s\) before it/);
    const array = await call('POST', `/api/jobs/${id}/tasks`, `[1, ${deep(10_000)}]`, {
      'content-type': 'application/json',
    });
    expect(array.status).toBe(400);
    // A task may nest MAX_VALUE_DEPTH (100) levels, the most a tab may send back as a result.
    const ok = await call('POST', `/api/jobs/${id}/tasks`, `${deep(100)}\n`);
    expect(ok.status).toBe(201);
    const over = await call('POST', `/api/jobs/${id}/tasks`, `${deep(101)}\n`);
    expect(over.status).toBe(400);
  });
});

describe('slow request bodies', () => {
  it('are cut off after the request timeout (1 s here), with a 408 body', async () => {
    const id = await newJob();
    const started = Date.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (c: Buffer) => (out += c.toString()));
    socket.write(
      `POST /api/jobs/${id}/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    // One task line every 200 ms, for ever.
    const drip = setInterval(() => socket.writable && socket.write('2\r\n1\n\r\n'), 200);
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    clearInterval(drip);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(10_000);
    expect(out).toMatch(/^HTTP\/1.1 408 /);
    expect(out).toContain('TG_ERR_REQUEST_TIMEOUT');
  }, 20_000);
});

describe('uploads per key', () => {
  it(`run at most ${UPLOADS_PER_KEY} at once per key; one more is 429 with Retry-After`, async () => {
    const id = await newJob();
    const open: ClientRequest[] = [];
    const answers: Promise<number>[] = [];
    for (let i = 0; i < UPLOADS_PER_KEY; i++) {
      const req = httpRequest(`${env.url}/api/jobs/${id}/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}` },
      });
      answers.push(new Promise((resolve) => req.on('response', (r) => resolve(r.statusCode ?? 0))));
      req.write('1\n');
      open.push(req);
    }
    // Let the server start both uploads.
    await new Promise((r) => setTimeout(r, 300));
    const third = await call('POST', `/api/jobs/${id}/tasks`, '1\n');
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(third.json.error?.code).toBe('TG_ERR_RATE_LIMITED');
    for (const req of open) req.end('2\n');
    expect(await Promise.all(answers)).toEqual(open.map(() => 201));
    // Once they are done, the key may upload again.
    expect((await call('POST', `/api/jobs/${id}/tasks`, '1\n')).status).toBe(201);
  });
});

describe('authentication failures', () => {
  // Last: it blocks this test's address.
  it('are limited per address: after 20 failures, 429 with Retry-After on REST and socket.io', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${env.url}/api/jobs`, {
        headers: { authorization: `Bearer guess-${i}` },
      });
      expect(res.status).toBe(401);
    }
    const blocked = await fetch(`${env.url}/api/jobs`, {
      headers: { authorization: 'Bearer guess' },
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await blocked.json()).toMatchObject({ error: { code: 'TG_ERR_RATE_LIMITED' } });
    // Even the right secret waits out the window from this address.
    expect((await call('GET', '/api/jobs')).status).toBe(429);

    const socket = ioClient(env.url, { auth: { token: alice }, transports: ['websocket'] });
    const refused = await new Promise<{ data?: unknown }>((resolve) =>
      socket.on('connect_error', (err) => resolve(err as { data?: unknown })),
    );
    socket.close();
    expect(refused.data).toMatchObject({ error: { code: 'TG_ERR_RATE_LIMITED' } });
  });
});

/**
 * Pages of other origins: CORS off by default, allowed only for the configured origins, on REST
 * and socket.io alike (both transports); forwarded addresses believed only from trusted proxies;
 * `/sdk.js` readable from anywhere.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { io as ioClient } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { tempDir } from '../testing/temp-dir.js';
import { parseCorsOrigins } from './cross-origin.js';

const APP = 'https://app.example';
const OTHER = 'https://evil.example';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serve(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

function preflight(url: string, origin: string): Promise<Response> {
  return fetch(`${url}/api/jobs`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
}

/** Connects socket.io as a page of `origin` would (the Node client can set the header). */
function socketFrom(
  server: TestServer,
  origin: string | undefined,
  transport: 'polling' | 'websocket',
): Promise<string> {
  const socket = ioClient(server.url, {
    auth: { token: server.token },
    transports: [transport],
    reconnection: false,
    ...(origin ? { extraHeaders: { origin } } : {}),
  });
  return new Promise((resolve) => {
    socket.on('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.on('connect_error', (err) => {
      socket.close();
      resolve(err.message);
    });
  });
}

describe('TABGRID_CORS_ORIGINS', () => {
  it('parses origins, `*`, and refuses what is not an origin', () => {
    expect(parseCorsOrigins(undefined)).toEqual([]);
    expect(parseCorsOrigins(' ')).toEqual([]);
    expect(parseCorsOrigins('*')).toBe('*');
    expect(parseCorsOrigins('https://app.example/, http://localhost:5173')).toEqual([
      APP,
      'http://localhost:5173',
    ]);
    for (const wrong of ['null', 'app.example', 'https://app.example/path', 'ftp://x', '*,' + APP])
      expect(() => parseCorsOrigins(wrong), wrong).toThrow(/TABGRID_CORS_ORIGINS/);
  });
});

describe('CORS on REST', () => {
  it('is off by default: no page of another origin is allowed', async () => {
    const server = await serve();
    const answer = await preflight(server.url, APP);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${server.url}/api/jobs`, {
      headers: { ...server.auth, origin: APP },
    });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows the configured origin only, also on refusals', async () => {
    const server = await serve({ cors: [APP] });
    const allowed = await preflight(server.url, APP);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();

    const refused = await preflight(server.url, OTHER);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();

    const get = await fetch(`${server.url}/api/jobs`, { headers: { ...server.auth, origin: APP } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe(APP);
    // A wrong token is a 401 the page can read, not an opaque network error.
    const unauthorized = await fetch(`${server.url}/api/jobs`, {
      headers: { authorization: 'Bearer nope', origin: APP },
    });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe(APP);
    const other = await fetch(`${server.url}/api/jobs`, {
      headers: { ...server.auth, origin: OTHER },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('never lets the opaque origin of job code in, whatever is configured', async () => {
    const server = await serve({ cors: '*' });
    const answer = await fetch(`${server.url}/api/jobs`, {
      headers: { ...server.auth, origin: 'null' },
    });
    expect(answer.status).toBe(403);
    expect(await socketFrom(server, 'null', 'websocket')).not.toBe('connected');
  });
});

describe('CORS on socket.io', () => {
  it('refuses pages of other origins by default, on both transports', async () => {
    const server = await serve();
    for (const transport of ['polling', 'websocket'] as const) {
      expect(await socketFrom(server, APP, transport), transport).not.toBe('connected');
      // The Node SDK sends no Origin; the dashboard's is the server's own.
      expect(await socketFrom(server, undefined, transport), transport).toBe('connected');
      expect(await socketFrom(server, server.url, transport), transport).toBe('connected');
    }
  });

  it('allows the configured origin, and answers its polling requests with CORS headers', async () => {
    const server = await serve({ cors: [APP] });
    for (const transport of ['polling', 'websocket'] as const) {
      expect(await socketFrom(server, APP, transport), transport).toBe('connected');
      expect(await socketFrom(server, OTHER, transport), transport).not.toBe('connected');
    }
    const handshake = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { origin: APP },
    });
    expect(handshake.status).toBe(200);
    expect(handshake.headers.get('access-control-allow-origin')).toBe(APP);
  });
});

describe('forwarded addresses', () => {
  /** Fails authentication on the socket `times` times as `client`, through a proxy at 127.0.0.1. */
  async function failFrom(server: TestServer, client: string): Promise<string> {
    const socket = ioClient(server.url, {
      auth: { token: 'wrong-token' },
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { 'x-forwarded-for': client },
    });
    return new Promise((resolve) => {
      socket.on('connect_error', (err) => {
        socket.close();
        resolve(
          String((err as Error & { data?: { error?: { code?: string } } }).data?.error?.code),
        );
      });
    });
  }

  it('the socket throttles the forwarded client when the proxy is trusted', async () => {
    const server = await serve({
      trustProxy: ['127.0.0.1'],
      authThrottle: { maxFailures: 2 },
    });
    const codes = [];
    for (let i = 0; i < 3; i += 1) codes.push(await failFrom(server, '203.0.113.5'));
    expect(codes).toEqual(['TG_ERR_UNAUTHORIZED', 'TG_ERR_UNAUTHORIZED', 'TG_ERR_RATE_LIMITED']);
    // Another client behind the same proxy is not punished for the first one.
    expect(await failFrom(server, '203.0.113.6')).toBe('TG_ERR_UNAUTHORIZED');
    // And REST agrees on who is who: the first client is throttled there too.
    const rest = await fetch(`${server.url}/api/jobs`, {
      headers: { authorization: 'Bearer nope', 'x-forwarded-for': '203.0.113.5' },
    });
    expect(rest.status).toBe(429);
  });

  it('untrusted, a forwarded header changes nothing: the peer is the address', async () => {
    const server = await serve({ authThrottle: { maxFailures: 2 } });
    const codes = [];
    for (const client of ['203.0.113.5', '203.0.113.6', '203.0.113.7'])
      codes.push(await failFrom(server, client));
    expect(codes[2]).toBe('TG_ERR_RATE_LIMITED');
  });
});

describe('/sdk.js', () => {
  it('serves the browser bundle to any origin, and says what to do when it is not built', async () => {
    const dir = tempDir('sdk-bundle');
    try {
      const missing = await serve({ sdkBundleDir: join(dir.path, 'none') });
      const absent = await fetch(`${missing.url}/sdk.js`);
      expect(absent.status).toBe(503);
      expect(await absent.text()).toMatch(/npm run build/);

      mkdirSync(join(dir.path, 'built'));
      writeFileSync(join(dir.path, 'built', 'sdk.js'), 'export const built = 1;\n');
      const built = await serve({ sdkBundleDir: join(dir.path, 'built') });
      const answer = await fetch(`${built.url}/sdk.js`, { headers: { origin: OTHER } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(await answer.text()).toBe('export const built = 1;\n');
    } finally {
      dir.remove();
    }
  });

  it('by default serves the SDK package’s build: one module with no bare imports', async () => {
    const server = await serve();
    const answer = await fetch(`${server.url}/sdk.js`);
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).toMatch(/export\s*\{/);
    // A browser cannot resolve `@tabgrid/...` or `socket.io-client`: nothing may be left to it.
    expect(text).not.toMatch(/\bfrom\s*["'](?![./])/);
    expect(text).not.toMatch(/\bimport\s*\(\s*["']/);
  });
});

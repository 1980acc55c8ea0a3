import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WorkerCloseCode } from '@tabgrid/protocol/worker';
import { buildApp, type App } from './app.js';
import { NodeWorker } from './testing/node-worker.js';

const TOKEN = 'test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

let dir: string;
let server: App;
let wsUrl: string;

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function createJob(body: object) {
  const res = await server.app.inject({
    method: 'POST',
    url: '/api/jobs',
    headers: auth,
    payload: body,
  });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tabgrid-app-'));
  server = await buildApp({
    dataDir: dir,
    adminToken: TOKEN,
    workerWebDir: dir,
    dashboardDir: dir,
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  wsUrl = `ws://127.0.0.1:${(server.app.server.address() as AddressInfo).port}/ws/worker`;
});

afterEach(async () => {
  await server.app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the worker page and job code', () => {
  it('serves the page with a policy that keeps job threads to this server', async () => {
    const web = mkdtempSync(join(tmpdir(), 'tabgrid-web-'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>worker</title>');
    writeFileSync(join(web, 'app.js'), 'export {};');
    const site = await buildApp({
      dataDir: join(web, 'data'),
      adminToken: TOKEN,
      workerWebDir: web,
      dashboardDir: web,
    });
    try {
      const page = await site.app.inject({ url: '/' });
      expect(page.statusCode).toBe(200);
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("worker-src 'self' data:");
      expect(csp).toContain("'unsafe-eval'");
      // Only the worker page's HTML carries it.
      const dashboard = await site.app.inject({ url: '/dashboard/' });
      expect(dashboard.headers['content-security-policy']).toBeUndefined();
    } finally {
      await site.app.close();
      rmSync(web, { recursive: true, force: true });
    }
  });

  it('refuses every request from an opaque origin (Origin: null), sockets included', async () => {
    for (const url of ['/healthz', '/api/jobs', '/openapi.json', '/']) {
      const res = await server.app.inject({ url, headers: { origin: 'null', ...auth } });
      expect(res.statusCode, url).toBe(403);
      expect(res.json(), url).toMatchObject({ error: { code: 'TG_ERR_FORBIDDEN' } });
    }
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(wsUrl, { origin: 'null' });
      socket.on('unexpected-response', (request, response) => {
        resolve(response.statusCode ?? 0);
        request.destroy(); // with this handler, ws leaves the refused request to us
      });
      socket.on('error', () => undefined); // the destroyed request, reported again
      socket.on('open', () => reject(new Error('the worker socket opened for Origin: null')));
    });
    expect(status).toBe(403);
    // The same requests from the page's own origin, or from no browser at all, go through.
    const page = { origin: 'http://127.0.0.1' };
    expect((await server.app.inject({ url: '/healthz', headers: page })).statusCode).toBe(200);
    expect((await server.app.inject({ url: '/api/jobs', headers: auth })).statusCode).toBe(200);
  });
});

describe('REST jobs with a protocol worker', () => {
  it('runs tasks end to end: create, upload NDJSON, close, read results and errors', async () => {
    const { status, body } = await createJob({
      program:
        'function Run(d, args) { if (d === 3) throw new TypeError("three"); return d * args.k }',
      name: 'mul',
      args: { k: 10 },
    });
    expect(status).toBe(201);
    const id = body.id as string;
    const upload = await server.app.inject({
      method: 'POST',
      url: `/api/jobs/${id}/tasks`,
      headers: auth,
      payload: '1\n2\n3\n4\n',
    });
    expect(upload.statusCode).toBe(201);
    expect(upload.json()).toEqual({ count: 4 });
    await server.app.inject({ method: 'POST', url: `/api/jobs/${id}/close`, headers: auth });

    const worker = new NodeWorker(wsUrl);
    await worker.opened;
    worker.hello();
    await until(async () => {
      const job = await server.app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers: auth });
      return job.json<{ state: string }>().state === 'done';
    });
    const job = (
      await server.app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers: auth })
    ).json<Record<string, unknown>>();
    expect(job).toMatchObject({ total: 4, finished: 3, failed: 1, state: 'done' });

    const results = await server.app.inject({
      method: 'GET',
      url: `/api/jobs/${id}/results?meta`,
      headers: auth,
    });
    const lines = results.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: number; value: number });
    expect(lines.sort((a, b) => a.index - b.index)).toEqual([
      { index: 0, value: 10 },
      { index: 1, value: 20 },
      { index: 3, value: 40 },
    ]);
    const errors = await server.app.inject({
      method: 'GET',
      url: `/api/jobs/${id}/errors`,
      headers: auth,
    });
    const error = JSON.parse(errors.body.trim()) as Record<string, unknown>;
    expect(error).toMatchObject({ index: 2, name: 'TypeError', message: 'three', type: 'program' });
    expect(error.stack).toContain('three');
    worker.close();
  });

  it('refuses a program with a syntax error, with the parser message', async () => {
    const { status, body } = await createJob({ program: 'function Run(d) { return d * }' });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'TG_ERR_INVALID_PROGRAM' } });
    expect(JSON.stringify(body)).toMatch(/Unexpected token/);
  });

  it('answers 401 without a valid token', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: TOKEN }]) {
      const res = await server.app.inject({ method: 'GET', url: '/api/jobs', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'TG_ERR_UNAUTHORIZED' } });
    }
  });

  it('stops an upload at a malformed line, keeping the tasks before it', async () => {
    const { body } = await createJob({ program: 'function Run(d) { return d }' });
    const res = await server.app.inject({
      method: 'POST',
      url: `/api/jobs/${String(body.id)}/tasks`,
      headers: auth,
      payload: '1\n2\n{oops\n4\n',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(
      /Line 3 .*2 task\(s\) before it were accepted/,
    );
    const job = (
      await server.app.inject({ method: 'GET', url: `/api/jobs/${String(body.id)}`, headers: auth })
    ).json<{ total: number }>();
    expect(job.total).toBe(2);
  });
});

describe('worker socket', () => {
  it('closes a connection that sends a malformed or unknown frame, and keeps serving others', async () => {
    const good = new NodeWorker(wsUrl);
    const bad = new NodeWorker(wsUrl);
    const unknown = new NodeWorker(wsUrl);
    await Promise.all([good.opened, bad.opened, unknown.opened]);
    good.hello();
    bad.send('{not json');
    unknown.hello();
    unknown.send({ type: 'steal', everything: true });
    await Promise.all([bad.closed, unknown.closed]);
    expect(bad.closeCode).toBe(WorkerCloseCode.PROTOCOL_ERROR);
    expect(bad.closeReason).toMatch(/not JSON/);
    expect(unknown.closeCode).toBe(WorkerCloseCode.PROTOCOL_ERROR);
    expect(unknown.closeReason).toMatch(/Invalid worker frame/);

    const { body } = await createJob({ program: 'function Run(d) { return d + 1 }' });
    const id = String(body.id);
    await server.app.inject({
      method: 'POST',
      url: `/api/jobs/${id}/tasks`,
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '[1,2,3]',
    });
    await until(() => good.done.length === 3);
    expect(good.done.map((o) => (o.ok ? o.value : null)).sort()).toEqual([2, 3, 4]);
    good.close();
  });

  it('re-dispatches the tasks of a worker that disconnects', async () => {
    const { body } = await createJob({ program: 'function Run(d) { return d }' });
    const id = String(body.id);
    const hung = new NodeWorker(wsUrl, { credit: 10, beforeTask: () => false });
    await hung.opened;
    hung.hello();
    await server.app.inject({
      method: 'POST',
      url: `/api/jobs/${id}/tasks`,
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify([...Array(10).keys()]),
    });
    await server.app.inject({ method: 'POST', url: `/api/jobs/${id}/close`, headers: auth });
    await until(
      () =>
        server.scheduler
          .job({ name: 'admin', owner: 'admin', role: 'admin', seesAll: true }, id)
          .info().inFlight === 2, // an untimed job's first tasks: 2 per thread
    );
    const healthy = new NodeWorker(wsUrl);
    await healthy.opened;
    healthy.hello();
    hung.close();
    await until(
      () =>
        server.scheduler
          .job({ name: 'admin', owner: 'admin', role: 'admin', seesAll: true }, id)
          .info().state === 'done',
    );
    expect(healthy.done.map((o) => o.index).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    healthy.close();
  });
});

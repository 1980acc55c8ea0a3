import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WorkerCloseCode } from '@tabgrid/protocol/worker';
import { NodeWorker } from './testing/node-worker.js';
import { tempDir } from './testing/temp-dir.js';
import { startTestServer } from './testing/test-server.js';
import { until } from './testing/until.js';
import { serverPerTest } from './testing/vitest.js';

const env = serverPerTest();

async function createJob(body: object) {
  const res = await env.server.app.inject({
    method: 'POST',
    url: '/api/jobs',
    headers: env.auth,
    payload: body,
  });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
}

describe('the worker page and job code', () => {
  it('serves the page with a policy that keeps job threads to this server', async () => {
    const web = tempDir('tabgrid-web-');
    writeFileSync(join(web.path, 'index.html'), '<!doctype html><title>worker</title>');
    writeFileSync(join(web.path, 'app.js'), 'export {};');
    const site = await startTestServer({
      workerWebDir: web.path,
      dashboardDir: web.path,
      listen: false,
    });
    try {
      const page = await site.server.app.inject({ url: '/' });
      expect(page.statusCode).toBe(200);
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("worker-src 'self' data:");
      expect(csp).toContain("'unsafe-eval'");
      // Only the worker page's HTML carries it.
      const dashboard = await site.server.app.inject({ url: '/dashboard/' });
      expect(dashboard.headers['content-security-policy']).toBeUndefined();
    } finally {
      await site.close();
      web.remove();
    }
  });

  it('refuses every request from an opaque origin (Origin: null), sockets included', async () => {
    for (const url of ['/healthz', '/api/jobs', '/openapi.json', '/']) {
      const res = await env.server.app.inject({ url, headers: { origin: 'null', ...env.auth } });
      expect(res.statusCode, url).toBe(403);
      expect(res.json(), url).toMatchObject({ error: { code: 'TG_ERR_FORBIDDEN' } });
    }
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(env.wsUrl, { origin: 'null' });
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
    expect((await env.server.app.inject({ url: '/healthz', headers: page })).statusCode).toBe(200);
    expect((await env.server.app.inject({ url: '/api/jobs', headers: env.auth })).statusCode).toBe(
      200,
    );
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
    const upload = await env.server.app.inject({
      method: 'POST',
      url: `/api/jobs/${id}/tasks`,
      headers: env.auth,
      payload: '1\n2\n3\n4\n',
    });
    expect(upload.statusCode).toBe(201);
    expect(upload.json()).toEqual({ count: 4 });
    await env.server.app.inject({
      method: 'POST',
      url: `/api/jobs/${id}/close`,
      headers: env.auth,
    });

    const worker = new NodeWorker(env.wsUrl);
    await worker.opened;
    worker.hello();
    await until(
      async () => {
        const job = await env.server.app.inject({
          method: 'GET',
          url: `/api/jobs/${id}`,
          headers: env.auth,
        });
        return job.json<{ state: string }>().state === 'done';
      },
      { what: 'the job done' },
    );
    const job = (
      await env.server.app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers: env.auth })
    ).json<Record<string, unknown>>();
    expect(job).toMatchObject({ total: 4, finished: 3, failed: 1, state: 'done' });

    const results = await env.server.app.inject({
      method: 'GET',
      url: `/api/jobs/${id}/results?meta`,
      headers: env.auth,
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
    const errors = await env.server.app.inject({
      method: 'GET',
      url: `/api/jobs/${id}/errors`,
      headers: env.auth,
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
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: env.token }]) {
      const res = await env.server.app.inject({ method: 'GET', url: '/api/jobs', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'TG_ERR_UNAUTHORIZED' } });
    }
  });

  it('stops an upload at a malformed line, keeping the tasks before it', async () => {
    const { body } = await createJob({ program: 'function Run(d) { return d }' });
    const res = await env.server.app.inject({
      method: 'POST',
      url: `/api/jobs/${String(body.id)}/tasks`,
      headers: env.auth,
      payload: '1\n2\n{oops\n4\n',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(
      /Line 3 .*2 task\(s\) before it were accepted/,
    );
    const job = (
      await env.server.app.inject({
        method: 'GET',
        url: `/api/jobs/${String(body.id)}`,
        headers: env.auth,
      })
    ).json<{ total: number }>();
    expect(job.total).toBe(2);
  });
});

describe('worker socket', () => {
  it('closes a connection that sends a malformed or unknown frame, and keeps serving others', async () => {
    const good = new NodeWorker(env.wsUrl);
    const bad = new NodeWorker(env.wsUrl);
    const unknown = new NodeWorker(env.wsUrl);
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
    await env.server.app.inject({
      method: 'POST',
      url: `/api/jobs/${id}/tasks`,
      headers: { ...env.auth, 'content-type': 'application/json' },
      payload: '[1,2,3]',
    });
    await until(() => good.done.length === 3, { what: 'the good worker done' });
    expect(good.done.map((o) => (o.ok ? o.value : null)).sort()).toEqual([2, 3, 4]);
    good.close();
  });

  it('re-dispatches the tasks of a worker that disconnects', async () => {
    const { body } = await createJob({ program: 'function Run(d) { return d }' });
    const id = String(body.id);
    const hung = new NodeWorker(env.wsUrl, { credit: 10, beforeTask: () => false });
    await hung.opened;
    hung.hello();
    await env.server.app.inject({
      method: 'POST',
      url: `/api/jobs/${id}/tasks`,
      headers: { ...env.auth, 'content-type': 'application/json' },
      payload: JSON.stringify([...Array(10).keys()]),
    });
    await env.server.app.inject({
      method: 'POST',
      url: `/api/jobs/${id}/close`,
      headers: env.auth,
    });
    await until(
      () =>
        env.server.scheduler
          .job({ name: 'admin', owner: 'admin', role: 'admin', seesAll: true }, id)
          .info().inFlight === 2, // an untimed job's first tasks: 2 per thread
      { what: 'two tasks in flight on the hung worker' },
    );
    const healthy = new NodeWorker(env.wsUrl);
    await healthy.opened;
    healthy.hello();
    hung.close();
    await until(
      () =>
        env.server.scheduler
          .job({ name: 'admin', owner: 'admin', role: 'admin', seesAll: true }, id)
          .info().state === 'done',
      { what: 'the job done' },
    );
    expect(healthy.done.map((o) => o.index).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    healthy.close();
  });
});

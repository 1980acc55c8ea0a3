/**
 * Calls every documented route with `app.inject()`, in success and error cases, and checks each
 * real answer against the OpenAPI document the server serves (openapi-check.conformance.ts).
 * The task-model routes are called in task-model-conformance.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { ADMIN_TOKEN } from '../testing/test-server.js';
import { until } from '../testing/until.js';
import { serverPerFile } from '../testing/vitest.js';
import { NodeWorker } from '../testing/node-worker.js';
import { MAX_JSON_BODY_BYTES } from './bounds.js';
import { TASK_MODEL_PATHS, conformance } from './openapi-check.conformance.js';
import { OPENAPI_PATH } from './openapi.js';

const listening = serverPerFile({ authThrottle: { maxFailures: 1000 } });
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const { call, checker, expectCovered } = conformance(listening);

describe('every route answers as its schema documents', () => {
  let client: { authorization: string };
  let viewer: { authorization: string };

  it('keys and whoami', async () => {
    const made = await call('POST', '/api/keys', '/api/keys', {
      headers: admin,
      payload: { name: 'alice', role: 'client' },
    });
    expect(made.statusCode).toBe(201);
    client = { authorization: `Bearer ${made.json<{ secret: string }>().secret}` };
    const seeing = await call('POST', '/api/keys', '/api/keys', {
      headers: admin,
      payload: { name: 'alice-view', role: 'viewer', owner: 'alice' },
    });
    viewer = { authorization: `Bearer ${seeing.json<{ secret: string }>().secret}` };
    const bad = [
      ['{', 400],
      [{ name: 'x' }, 400],
      [{ name: 'alice', role: 'client' }, 400],
    ] as const;
    for (const [payload, status] of bad) {
      const res = await call('POST', '/api/keys', '/api/keys', { headers: admin, payload });
      expect(res.statusCode).toBe(status);
    }
    expect(
      (await call('POST', '/api/keys', '/api/keys', { headers: client, payload: {} })).statusCode,
    ).toBe(403);
    expect((await call('GET', '/api/keys', '/api/keys', { headers: admin })).statusCode).toBe(200);
    expect((await call('GET', '/api/keys', '/api/keys', { headers: client })).statusCode).toBe(403);
    expect((await call('GET', '/api/whoami', '/api/whoami', { headers: viewer })).statusCode).toBe(
      200,
    );
    expect((await call('GET', '/api/whoami', '/api/whoami')).statusCode).toBe(401);
    const temp = await call('POST', '/api/keys', '/api/keys', {
      headers: admin,
      payload: { name: 'temp', role: 'client' },
    });
    const id = temp.json<{ id: string }>().id;
    expect(
      (await call('DELETE', `/api/keys/${id}`, '/api/keys/{id}', { headers: admin })).statusCode,
    ).toBe(204);
    expect(
      (await call('DELETE', `/api/keys/${id}`, '/api/keys/{id}', { headers: admin })).statusCode,
    ).toBe(404);
    expect(
      (await call('DELETE', `/api/keys/${id}`, '/api/keys/{id}', { headers: viewer })).statusCode,
    ).toBe(403);
  });

  it('jobs, tasks, results and errors', async () => {
    const program = 'function Run(d) { if (d < 0) throw new Error("negative"); return d * 2 }';
    const created = await call('POST', '/api/jobs', '/api/jobs', {
      headers: client,
      payload: { program, name: 'conformance', group: 'g' },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: string }>().id;
    for (const payload of ['{', '{}', { program: 'function Nope() {}' }]) {
      const res = await call('POST', '/api/jobs', '/api/jobs', { headers: client, payload });
      expect(res.statusCode).toBe(400);
    }
    expect(
      (await call('POST', '/api/jobs', '/api/jobs', { headers: viewer, payload: { program } }))
        .statusCode,
    ).toBe(403);
    const huge = `{"program":"${'x'.repeat(MAX_JSON_BODY_BYTES)}"}`;
    expect(
      (await call('POST', '/api/jobs', '/api/jobs', { headers: client, payload: huge })).statusCode,
    ).toBe(413);

    expect((await call('GET', '/api/jobs', '/api/jobs', { headers: client })).statusCode).toBe(200);
    expect((await call('GET', '/api/jobs', '/api/jobs')).statusCode).toBe(401);
    expect(
      (await call('GET', `/api/jobs/${id}`, '/api/jobs/{id}', { headers: viewer })).statusCode,
    ).toBe(200);
    expect(
      (await call('GET', '/api/jobs/nope', '/api/jobs/{id}', { headers: client })).statusCode,
    ).toBe(404);

    const tasks = '/api/jobs/{id}/tasks';
    const ndjson = { ...client, 'content-type': 'application/x-ndjson' };
    expect(
      (
        await call('POST', `/api/jobs/${id}/tasks`, tasks, {
          headers: ndjson,
          payload: '1\n-1\n3\n',
        })
      ).statusCode,
    ).toBe(201);
    const json = { ...client, 'content-type': 'application/json' };
    expect(
      (await call('POST', `/api/jobs/${id}/tasks`, tasks, { headers: json, payload: '[4,-5]' }))
        .statusCode,
    ).toBe(201);
    expect(
      (await call('POST', `/api/jobs/${id}/tasks`, tasks, { headers: ndjson, payload: '1\n{\n' }))
        .statusCode,
    ).toBe(400);
    expect(
      (await call('POST', `/api/jobs/${id}/tasks`, tasks, { headers: json, payload: '{}' }))
        .statusCode,
    ).toBe(400);
    expect(
      (await call('POST', `/api/jobs/${id}/tasks`, tasks, { headers: viewer, payload: '1' }))
        .statusCode,
    ).toBe(403);
    expect(
      (await call('POST', '/api/jobs/nope/tasks', tasks, { headers: ndjson, payload: '1' }))
        .statusCode,
    ).toBe(404);

    for (const action of ['close', 'cancel', 'resume'] as const) {
      const path = `/api/jobs/{id}/${action}`;
      expect(
        (await call('POST', `/api/jobs/nope/${action}`, path, { headers: client })).statusCode,
      ).toBe(404);
      expect(
        (await call('POST', `/api/jobs/${id}/${action}`, path, { headers: viewer })).statusCode,
      ).toBe(403);
    }
    expect(
      (await call('POST', `/api/jobs/${id}/resume`, '/api/jobs/{id}/resume', { headers: client }))
        .statusCode,
    ).toBe(200);
    expect(
      (await call('POST', `/api/jobs/${id}/close`, '/api/jobs/{id}/close', { headers: client }))
        .statusCode,
    ).toBe(200);
    expect(
      (await call('POST', `/api/jobs/${id}/tasks`, tasks, { headers: ndjson, payload: '1' }))
        .statusCode,
    ).toBe(409);

    const worker = new NodeWorker(listening.wsUrl);
    await worker.opened;
    worker.hello();
    await until(
      async () => {
        const res = await listening.server.app.inject({
          method: 'GET',
          url: `/api/jobs/${id}`,
          headers: client,
        });
        return res.json<{ state: string }>().state === 'done';
      },
      { timeoutMs: 10_000, what: 'the job to be done' },
    );
    worker.close();

    const results = '/api/jobs/{id}/results';
    const errors = '/api/jobs/{id}/errors';
    for (const query of ['', '?meta', '?stream&from=0', '?meta&from=1']) {
      const res = await call('GET', `/api/jobs/${id}/results${query}`, results, {
        headers: viewer,
      });
      expect(res.statusCode).toBe(200);
      expect(res.body.trim()).not.toBe('');
    }
    for (const query of ['', '?stream&from=0']) {
      const res = await call('GET', `/api/jobs/${id}/errors${query}`, errors, { headers: client });
      expect(res.body.trim().split('\n')).toHaveLength(2);
    }
    expect(
      (await call('GET', `/api/jobs/${id}/results?from=-1`, results, { headers: client }))
        .statusCode,
    ).toBe(400);
    expect(
      (await call('GET', `/api/jobs/${id}/errors?from=x`, errors, { headers: client })).statusCode,
    ).toBe(400);
    expect(
      (await call('GET', '/api/jobs/nope/results', results, { headers: client })).statusCode,
    ).toBe(404);
    expect(
      (await call('GET', '/api/jobs/nope/errors', errors, { headers: client })).statusCode,
    ).toBe(404);

    const other = await call('POST', '/api/jobs', '/api/jobs', {
      headers: client,
      payload: { program },
    });
    const otherId = other.json<{ id: string }>().id;
    expect(
      (
        await call('POST', `/api/jobs/${otherId}/cancel`, '/api/jobs/{id}/cancel', {
          headers: client,
        })
      ).statusCode,
    ).toBe(200);

    expect(
      (await call('DELETE', `/api/jobs/${id}`, '/api/jobs/{id}', { headers: viewer })).statusCode,
    ).toBe(403);
    expect(
      (await call('DELETE', `/api/jobs/${id}`, '/api/jobs/{id}', { headers: client })).statusCode,
    ).toBe(204);
    expect(
      (await call('DELETE', `/api/jobs/${id}`, '/api/jobs/{id}', { headers: client })).statusCode,
    ).toBe(404);
    expect((await call('DELETE', '/api/jobs', '/api/jobs', { headers: viewer })).statusCode).toBe(
      403,
    );
    expect((await call('DELETE', '/api/jobs', '/api/jobs', { headers: client })).statusCode).toBe(
      204,
    );
  });

  it('the health check, the document, and the errors every route may answer', async () => {
    expect((await call('GET', '/healthz', '/healthz')).statusCode).toBe(200);
    expect((await call('GET', '/healthz?reset', '/healthz')).statusCode).toBe(200);
    expect(
      (await call('GET', '/healthz', '/healthz', { headers: { origin: 'null' } })).statusCode,
    ).toBe(403);
    expect((await call('GET', OPENAPI_PATH, OPENAPI_PATH)).statusCode).toBe(200);
    expect(
      (await call('GET', OPENAPI_PATH, OPENAPI_PATH, { headers: { origin: 'null' } })).statusCode,
    ).toBe(403);
    const long = `/api/jobs?x=${'a'.repeat(9000)}`;
    expect((await call('GET', long, '/api/jobs', { headers: client })).statusCode).toBe(414);
    expect(
      (await call('GET', '/api/whoami', '/api/whoami', { headers: { origin: 'null', ...client } }))
        .statusCode,
    ).toBe(403);
  });

  it('every operation was called with a success and with an error', () => {
    expectCovered((path) => !TASK_MODEL_PATHS.has(path));
  });
});

describe('the conformance check', () => {
  async function jobAnswer(): Promise<LightMyRequestResponse> {
    const created = await listening.server.app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: admin,
      payload: { program: 'function Run(d) { return d }' },
    });
    return listening.server.app.inject({
      method: 'GET',
      url: `/api/jobs/${created.json<{ id: string }>().id}`,
      headers: admin,
    });
  }

  /** A copy of `res` with another body (and status), as a server that breaks its schema sends. */
  function tampered(res: LightMyRequestResponse, body: unknown, statusCode = res.statusCode) {
    const payload = JSON.stringify(body);
    return {
      ...res,
      statusCode,
      body: payload,
      payload,
      json: () => JSON.parse(payload) as unknown,
    } as LightMyRequestResponse;
  }

  it('passes the real answer', async () => {
    const res = await jobAnswer();
    expect(checker().problems('GET', '/api/jobs/{id}', res)).toEqual([]);
  });

  it('fails a wrongly typed field, a missing one, an undocumented one and an undocumented status', async () => {
    const res = await jobAnswer();
    const job = res.json<Record<string, unknown>>();
    const cases = [
      [{ ...job, total: 'many' }, 200, /total.*must be integer/],
      [{ ...job, state: undefined }, 200, /must have required property 'state'/],
      [{ ...job, secret: 'x' }, 200, /must NOT have additional properties/],
      [{ error: { code: 'TG_ERR_NOPE', message: 'x' } }, 404, /code must match a schema in anyOf/],
      [job, 418, /status not documented/],
    ] as const;
    for (const [body, status, problem] of cases) {
      expect(
        checker()
          .problems('GET', '/api/jobs/{id}', tampered(res, body, status))
          .join('\n'),
      ).toMatch(problem);
    }
  });

  it('fails a wrong NDJSON line', async () => {
    const res = tampered(await jobAnswer(), null);
    const lines = { ...res, headers: { ...res.headers, 'content-type': 'application/x-ndjson' } };
    const bad = {
      ...lines,
      body: '{"index":0,"name":"E","message":"m","stack":"","type":"program"}\n{"index":"one"}\n',
    };
    expect(
      checker()
        .problems('GET', '/api/jobs/{id}/errors', bad as LightMyRequestResponse)
        .join('\n'),
    ).toMatch(/line 2/);
  });
});

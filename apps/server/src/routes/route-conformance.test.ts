/**
 * Calls every documented route with `app.inject()`, in success and error cases, and checks each
 * real answer against the OpenAPI document the server serves: the status must be documented for
 * that operation, the content type too, and the body must match its schema (NDJSON: every line).
 * Objects are checked closed (no field the document does not name), so an undocumented field
 * fails as surely as a wrong type.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { LightMyRequestResponse } from 'fastify';
import { ADMIN_TOKEN } from '../testing/test-server.js';
import { until } from '../testing/until.js';
import { serverPerFile } from '../testing/vitest.js';
import { NodeWorker } from '../testing/node-worker.js';
import { MAX_JSON_BODY_BYTES } from './bounds.js';
import { OPENAPI_PATH } from './openapi.js';

const listening = serverPerFile({ authThrottle: { maxFailures: 1000 } });
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

type Schema = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** `schema` with every object that lists its properties closed to others. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    // Property names are not schemas; their values are.
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, closed(v)]))
        : closed(value);
  }
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** Checks answers against the document: `problems` says what does not conform, `[]` if all does. */
class ConformanceChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly components: Schema;
  /** Every `METHOD path status` checked, to show that every operation was exercised. */
  readonly seen = new Set<string>();

  constructor(readonly doc: Document) {
    this.components = closed(doc.components) as Schema;
  }

  problems(method: string, path: string, res: LightMyRequestResponse): string[] {
    const where = `${method} ${path} → ${res.statusCode}`;
    const op = this.doc.paths[path]?.[method.toLowerCase()];
    if (!op) return [`${where}: no such operation in the document`];
    const documented = op.responses[String(res.statusCode)];
    if (!documented) return [`${where}: status not documented`];
    this.seen.add(`${method} ${path} ${res.statusCode}`);
    if (!documented.content) {
      return res.body === '' ? [] : [`${where}: a body where the document says none`];
    }
    const type = String(res.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    const media = documented.content[type];
    if (!media) return [`${where}: content type ${type || '(none)'} not documented`];
    const validate = this.ajv.compile({
      ...(closed(media.schema) as Schema),
      components: this.components,
    });
    const values =
      type === 'application/x-ndjson'
        ? res.body
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line) => JSON.parse(line) as unknown)
        : [res.json<unknown>()];
    return values.flatMap((value, i) =>
      validate(value)
        ? []
        : [
            `${where}${values.length > 1 ? ` line ${i + 1}` : ''}: ${this.ajv.errorsText(validate.errors)}`,
          ],
    );
  }
}

let checker: ConformanceChecker;

/** Injects a request and checks its answer against the document; returns the answer. */
async function call(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  path: string,
  options: { headers?: Record<string, string>; payload?: unknown } = {},
): Promise<LightMyRequestResponse> {
  const res = await listening.server.app.inject({
    method,
    url,
    headers: options.headers,
    payload: options.payload as string | object | undefined,
  });
  expect(checker.problems(method, path, res)).toEqual([]);
  return res;
}

beforeAll(async () => {
  const doc = await listening.server.app.inject({ method: 'GET', url: OPENAPI_PATH });
  checker = new ConformanceChecker(doc.json<Document>());
});

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

  it('logs, events, series, messages, latest job, workers and notes', async () => {
    const created = await call('POST', '/api/jobs', '/api/jobs', {
      headers: client,
      payload: { program: 'function Run(d) { return d }', name: 'task-model' },
    });
    const id = created.json<{ id: string }>().id;
    await call('POST', `/api/jobs/${id}/tasks`, '/api/jobs/{id}/tasks', {
      headers: { ...client, 'content-type': 'application/x-ndjson' },
      payload: '1\n2\n',
    });
    await call('POST', `/api/jobs/${id}/close`, '/api/jobs/{id}/close', { headers: client });
    const held: number[] = [];
    const worker = new NodeWorker(listening.wsUrl, {
      beforeTask: (_jobId, index) => {
        held.push(index);
        return false;
      },
    });
    await worker.opened;
    worker.hello();
    await until(() => held.length === 2, { what: 'the worker to hold both tasks' });
    const at = Date.now();
    worker.send({
      type: 'report',
      items: [
        {
          jobId: id,
          index: 0,
          progress: 0.5,
          logs: [{ level: 'warn', message: 'hot', count: 3, at }],
          events: [{ name: 'best', data: { loss: 1 }, at }],
        },
        { jobId: id, index: null, logs: [{ level: 'log', message: 'setup', count: 1, at }] },
      ],
    });
    const messages = '/api/jobs/{id}/messages';
    const post = (payload: unknown, headers: Record<string, string> = client) =>
      call('POST', `/api/jobs/${id}/messages`, messages, { headers, payload });
    expect((await post({ go: 1 })).statusCode).toBe(201);
    expect(
      (await post({ go: 2 }, { ...client, 'idempotency-key': 'k' })).json<{ seq: number }>(),
    ).toEqual({ seq: 2 });
    expect((await post({ go: 2 }, { ...client, 'idempotency-key': 'k' })).statusCode).toBe(201);
    for (const [payload, status] of [
      ['', 400],
      ['{', 400],
      [JSON.stringify('x'.repeat(70_000)), 413],
    ] as const) {
      expect(
        (await post(payload, { ...client, 'content-type': 'application/json' })).statusCode,
      ).toBe(status);
    }
    expect((await post({ go: 1 }, viewer)).statusCode).toBe(403);
    expect(
      (await call('POST', '/api/jobs/nope/messages', messages, { headers: client, payload: {} }))
        .statusCode,
    ).toBe(404);

    worker.send({
      type: 'outcomes',
      credit: 2,
      items: held.map((index) => ({
        jobId: id,
        index,
        ms: 1,
        ok: true,
        value: index,
        series: [{ label: 'loss', values: [index, 0.5] }],
      })),
    });
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
    expect((await post({ go: 3 })).statusCode).toBe(409);

    for (const feed of ['logs', 'events'] as const) {
      const path = `/api/jobs/{id}/${feed}`;
      const all = await call('GET', `/api/jobs/${id}/${feed}`, path, { headers: viewer });
      expect(all.statusCode).toBe(200);
      expect(all.body.trim().split('\n')).toHaveLength(feed === 'logs' ? 2 : 1);
      expect(
        (await call('GET', `/api/jobs/${id}/${feed}?from=1`, path, { headers: client })).body
          .trim()
          .split('\n')
          .filter(Boolean),
      ).toHaveLength(feed === 'logs' ? 1 : 0);
      expect(
        (await call('GET', `/api/jobs/${id}/${feed}?from=-1`, path, { headers: client }))
          .statusCode,
      ).toBe(400);
      expect(
        (await call('GET', `/api/jobs/nope/${feed}`, path, { headers: client })).statusCode,
      ).toBe(404);
    }
    const labels = await call('GET', `/api/jobs/${id}/series`, '/api/jobs/{id}/series', {
      headers: client,
    });
    expect(labels.json<string[]>()).toEqual(['loss']);
    expect(
      (await call('GET', '/api/jobs/nope/series', '/api/jobs/{id}/series', { headers: client }))
        .statusCode,
    ).toBe(404);
    const series = '/api/jobs/{id}/series/{label}';
    const lines = await call('GET', `/api/jobs/${id}/series/loss`, series, { headers: viewer });
    expect(lines.body.trim().split('\n')).toHaveLength(2);
    expect(
      (
        await call('GET', `/api/jobs/${id}/series/loss?stream&from=0`, series, { headers: client })
      ).body
        .trim()
        .split('\n'),
    ).toHaveLength(2);
    expect(
      (await call('GET', `/api/jobs/${id}/series/loss?from=x`, series, { headers: client }))
        .statusCode,
    ).toBe(400);
    expect(
      (await call('GET', '/api/jobs/nope/series/loss', series, { headers: client })).statusCode,
    ).toBe(404);

    const latest = await call('GET', '/api/jobs?name=task-model&latest=1', '/api/jobs', {
      headers: client,
    });
    expect(latest.json<{ id: string }>().id).toBe(id);
    expect(
      (await call('GET', '/api/jobs?name=nope&latest=1', '/api/jobs', { headers: client }))
        .statusCode,
    ).toBe(404);
    expect(
      (await call('GET', '/api/jobs?latest=1', '/api/jobs', { headers: client })).statusCode,
    ).toBe(400);
    expect(
      (await call('GET', '/api/jobs?name=task-model', '/api/jobs', { headers: client })).json<
        unknown[]
      >(),
    ).toHaveLength(1);

    expect((await call('GET', '/api/workers', '/api/workers', { headers: admin })).statusCode).toBe(
      200,
    );
    expect(
      (await call('GET', '/api/workers', '/api/workers', { headers: client })).statusCode,
    ).toBe(200);
    expect((await call('GET', '/api/workers', '/api/workers')).statusCode).toBe(401);
    const note = await call('POST', '/api/notes', '/api/notes', {
      headers: client,
      payload: { text: 'phase 2' },
    });
    expect(note.statusCode).toBe(201);
    expect(note.json<{ text: string }>().text).toBe('phase 2');
    for (const payload of ['{', { text: '' }, { text: 'x'.repeat(501) }]) {
      expect(
        (await call('POST', '/api/notes', '/api/notes', { headers: client, payload })).statusCode,
      ).toBe(400);
    }
    expect(
      (await call('POST', '/api/notes', '/api/notes', { headers: viewer, payload: { text: 'x' } }))
        .statusCode,
    ).toBe(403);
  });

  it('every operation was called with a success and with an error', () => {
    const doc = checker.doc;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const statuses = [...checker.seen]
          .filter((seen) => seen.startsWith(`${method.toUpperCase()} ${path} `))
          .map((seen) => Number(seen.split(' ')[2]));
        const where = `${method.toUpperCase()} ${path}`;
        expect(
          statuses.some((s) => s < 300),
          `${where}: ${statuses.join(', ')}`,
        ).toBe(true);
        expect(
          statuses.some((s) => s >= 400),
          `${where}: ${statuses.join(', ')}`,
        ).toBe(true);
      }
    }
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
    expect(checker.problems('GET', '/api/jobs/{id}', res)).toEqual([]);
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
        checker.problems('GET', '/api/jobs/{id}', tampered(res, body, status)).join('\n'),
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
      checker.problems('GET', '/api/jobs/{id}/errors', bad as LightMyRequestResponse).join('\n'),
    ).toMatch(/line 2/);
  });
});

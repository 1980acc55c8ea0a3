import { beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { JobView } from '@tabgrid/protocol/http';
import type { App } from '../app.js';
import { serverPerTest } from '../testing/vitest.js';
import { OPENAPI_PATH } from './openapi.js';

const env = serverPerTest({ listen: false });
let server: App;
let auth: { authorization: string };

beforeEach(() => {
  ({ server, auth } = env);
});

interface Response {
  description: string;
  content?: Record<string, { schema: Record<string, unknown> }>;
}
interface Operation {
  operationId: string;
  tags: string[];
  security?: unknown[];
  responses: Record<string, Response>;
}
interface Document {
  openapi: string;
  info: { title: string; version: string; license?: { name: string } };
  servers?: { url: string }[];
  security: unknown[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { properties?: Record<string, unknown> }>;
    securitySchemes: Record<string, Record<string, unknown>>;
  };
}

async function fetchDocument(): Promise<Document> {
  const res = await server.app.inject({ method: 'GET', url: OPENAPI_PATH });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res.json<Document>();
}

/**
 * Every route the server registers, from Fastify's route tree (`printRoutes` is the only public
 * listing after the app is built). Each line is `<indent>├── <path segment> (<METHODS>)`, four
 * characters of indent per level; a node's path is its parents' segments joined.
 */
function registeredRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const segments: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const [, indent, segment, methods] = match as unknown as [string, string, string, string?];
    segments.length = indent.length / 4;
    segments.push(segment);
    const url = segments.join('');
    for (const method of methods?.split(', ') ?? []) routes.push({ method, url });
  }
  return routes;
}

function operations(doc: Document): { key: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${path}`,
      path,
      op,
    })),
  );
}

describe('GET /api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (a real validator finds no error)', async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    const validator = new Validator();
    // Exactly what is served, parsed.
    const served = await server.app.inject({ method: 'GET', url: OPENAPI_PATH });
    const result = await validator.validate(served.json<Record<string, unknown>>());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('the validator is real: it finds the errors of a broken document', async () => {
    const doc = await fetchDocument();
    const broken = structuredClone(doc) as unknown as Record<string, unknown>;
    delete broken.info;
    (broken.paths as Record<string, unknown>)['/api/jobs'] = { get: { responses: 'none' } };
    const result = await new Validator().validate(broken);
    expect(result.valid).toBe(false);
    expect(JSON.stringify(result.errors)).toMatch(/info/);
  });

  it('has servers, a licensed info, tags and the security schemes', async () => {
    const doc = await fetchDocument();
    expect(doc.info).toMatchObject({
      title: 'Tabgrid REST API',
      license: { name: 'Apache License 2.0', identifier: 'Apache-2.0' },
    });
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(doc.security).toEqual([{ bearer: [] }, { token: [] }, { basic: [] }]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      'basic',
      'bearer',
      'token',
    ]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.token).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
    });
    for (const { key, op } of operations(doc)) {
      expect(op.tags.length, key).toBe(1);
      expect(op.operationId, key).toBeTruthy();
    }
  });

  it('documents every REST route, and only those are public that need no credentials', async () => {
    const doc = await fetchDocument();
    const documented = operations(doc).map(({ key }) => key);
    expect(documented.sort()).toEqual(
      [
        'GET /api/jobs',
        'POST /api/jobs',
        'DELETE /api/jobs',
        'GET /api/jobs/{id}',
        'DELETE /api/jobs/{id}',
        'POST /api/jobs/{id}/tasks',
        'POST /api/jobs/{id}/close',
        'POST /api/jobs/{id}/cancel',
        'POST /api/jobs/{id}/resume',
        'GET /api/jobs/{id}/results',
        'GET /api/jobs/{id}/errors',
        'GET /api/jobs/{id}/logs',
        'GET /api/jobs/{id}/events',
        'GET /api/jobs/{id}/series',
        'GET /api/jobs/{id}/series/{label}',
        'POST /api/jobs/{id}/messages',
        'GET /api/workers',
        'POST /api/notes',
        'POST /api/keys',
        'GET /api/keys',
        'DELETE /api/keys/{id}',
        'GET /api/whoami',
        'GET /api/openapi.json',
        'GET /healthz',
      ].sort(),
    );
    // And the other way round: every /api/ route Fastify has (HEAD comes with each GET).
    const registered = registeredRoutes(server.app)
      .filter(({ method, url }) => url.startsWith('/api/') && method !== 'HEAD')
      .map(({ method, url }) => `${method} ${url.replace(/:(\w+)/g, '{$1}')}`);
    expect(registered.sort()).toEqual(documented.filter((key) => key.includes(' /api/')).sort());
    for (const { key, path, op } of operations(doc)) {
      const isPublic = path === OPENAPI_PATH || path === '/healthz';
      expect(op.security, key).toEqual(isPublic ? [] : undefined);
    }
  });

  it('documents the error answers of every route, each an ErrorBody', async () => {
    const doc = await fetchDocument();
    expect(doc.components.schemas.ErrorBody).toMatchObject({
      properties: { error: { properties: { code: { anyOf: expect.any(Array) } } } },
    });
    const codes = JSON.stringify(doc.components.schemas.ErrorBody);
    for (const code of Object.values(ErrorCode)) expect(codes).toContain(code);
    for (const { key, path, op } of operations(doc)) {
      const statuses = Object.keys(op.responses);
      // Every route: an opaque origin, a URL or headers too large, too slow, a bug.
      expect(statuses, key).toEqual(expect.arrayContaining(['403', '408', '414', '431', '500']));
      if (path !== OPENAPI_PATH && path !== '/healthz') {
        expect(statuses, key).toEqual(expect.arrayContaining(['401', '429']));
      }
      for (const [status, response] of Object.entries(op.responses)) {
        expect(response.description, `${key} ${status}`).toBeTruthy();
        if (Number(status) < 400) continue;
        expect(response.content, `${key} ${status}`).toEqual({
          'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } },
        });
        expect(response.description, `${key} ${status}`).toMatch(/Codes: `TG_ERR_/);
      }
    }
    expect(Object.keys(doc.paths['/api/jobs/{id}']?.get?.responses ?? {})).toContain('404');
    expect(Object.keys(doc.paths['/api/keys']?.get?.responses ?? {})).toContain('403');
    expect(Object.keys(doc.paths['/api/jobs/{id}/tasks']?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(['201', '400', '404', '409', '413']),
    );
  });

  it("documents every field of a job answer, CrowdProcess's included", async () => {
    const doc = await fetchDocument();
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: auth,
      payload: { program: 'function Run(d) { return d }' },
    });
    expect(created.statusCode).toBe(201);
    const fields = Object.keys(doc.components.schemas.Job?.properties ?? {});
    expect(fields.sort()).toEqual(Object.keys(created.json<object>()).sort());
    expect(fields.sort()).toEqual(Object.keys(JobView.properties).sort());
    expect(fields).toEqual(expect.arrayContaining(['status', 'bid', 'browserHours']));
  });

  it('answers with a query string and a trailing slash too, and for HEAD', async () => {
    for (const url of [`${OPENAPI_PATH}?x=1`, `${OPENAPI_PATH}/`]) {
      expect((await server.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
    expect((await server.app.inject({ method: 'HEAD', url: OPENAPI_PATH })).statusCode).toBe(200);
  });

  it('keeps every other /api/ route authenticated', async () => {
    for (const url of ['/api/jobs', `/api/jobs?next=${OPENAPI_PATH}`, '/api/whoami']) {
      const res = await server.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(401);
      expect(res.json<{ error: { code: string } }>().error.code).toBe(ErrorCode.UNAUTHORIZED);
    }
  });
});

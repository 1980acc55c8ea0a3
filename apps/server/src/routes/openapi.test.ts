import { beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { JobInfo } from '@tabgrid/protocol/jobs';
import type { App } from '../app.js';
import { serverPerTest } from '../testing/vitest.js';
import {
  DOCUMENTED_OPERATIONS,
  OPENAPI_DOCUMENT,
  OPENAPI_PATH,
  type OpenApiDocument,
} from './openapi.js';

const env = serverPerTest({ listen: false });
let server: App;
let auth: { authorization: string };

beforeEach(() => {
  ({ server, auth } = env);
});

async function fetchDocument(): Promise<OpenApiDocument> {
  const res = await server.app.inject({ method: 'GET', url: OPENAPI_PATH });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res.json<OpenApiDocument>();
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

/** Every `$ref` in `value`. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === '$ref' && typeof inner === 'string' ? [inner] : refs(inner),
  );
}

describe('GET /api/openapi.json', () => {
  it('serves an OpenAPI 3.1 document of every REST route without credentials', async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'GET /api/jobs',
        'POST /api/jobs',
        'DELETE /api/jobs',
        'GET /api/jobs/{id}',
        'DELETE /api/jobs/{id}',
        'POST /api/jobs/{id}/tasks',
        'POST /api/jobs/{id}/close',
        'POST /api/jobs/{id}/cancel',
        'GET /api/jobs/{id}/results',
        'GET /api/jobs/{id}/errors',
        'POST /api/keys',
        'GET /api/keys',
        'DELETE /api/keys/{id}',
        'GET /api/whoami',
        'GET /api/openapi.json',
        'GET /healthz',
      ]),
    );
    // Only the document and the health check are public.
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops)) {
        const isPublic = path === OPENAPI_PATH || path === '/healthz';
        expect(op.security, path).toEqual(isPublic ? [] : undefined);
      }
    }
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      'basic',
      'bearer',
      'token',
    ]);
    expect(doc.components.securitySchemes.token).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
    });
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

  it('documents exactly the operations the server routes', () => {
    expect(DOCUMENTED_OPERATIONS.length).toBeGreaterThan(15);
    for (const { method, url } of DOCUMENTED_OPERATIONS) {
      expect(server.app.hasRoute({ method, url }), `${method} ${url}`).toBe(true);
    }
    // And the other way round: every /api/ route Fastify has (HEAD comes with each GET).
    const documented = DOCUMENTED_OPERATIONS.filter(({ url }) => url.startsWith('/api/'));
    const registered = registeredRoutes(server.app).filter(
      ({ method, url }) => url.startsWith('/api/') && method !== 'HEAD',
    );
    const key = ({ method, url }: { method: string; url: string }) => `${method} ${url}`;
    expect(registered.map(key).sort()).toEqual(documented.map(key).sort());
  });

  it('describes the error body and every $ref resolves', async () => {
    const doc = await fetchDocument();
    expect(doc.components.schemas.Error).toMatchObject({
      properties: {
        error: { properties: { code: { enum: Object.values(ErrorCode) } } },
      },
    });
    for (const ref of new Set(refs(doc))) {
      const [, section, name] = /^#\/components\/(\w+)\/(\w+)$/.exec(ref) ?? [];
      const components = doc.components as unknown as Record<string, Record<string, unknown>>;
      expect(section && name && components[section]?.[name], ref).toBeTruthy();
    }
    for (const op of ['/api/jobs', '/api/jobs/{id}/close']) {
      const responses = Object.values(doc.paths[op] ?? {}).flatMap((o) => Object.keys(o.responses));
      expect(responses, op).toContain('401');
    }
    expect(Object.keys(doc.paths['/api/jobs/{id}']?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '401', '404']),
    );
    expect(Object.keys(doc.paths['/api/keys']?.get?.responses ?? {})).toContain('403');
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
    const job = doc.components.schemas.Job as {
      allOf: [unknown, { properties: Record<string, unknown> }];
    };
    const fields = [...Object.keys(JobInfo.properties), ...Object.keys(job.allOf[1].properties)];
    expect(fields.sort()).toEqual(Object.keys(created.json<object>()).sort());
    expect(fields).toEqual(expect.arrayContaining(['status', 'bid', 'browserHours']));
  });
});

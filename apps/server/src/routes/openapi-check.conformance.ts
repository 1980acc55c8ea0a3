/**
 * The conformance check behind route-conformance.test.ts and task-model-conformance.test.ts:
 * each real answer against the OpenAPI document the server serves (the status must be
 * documented for that operation, the content type too, and the body must match its schema;
 * NDJSON: every line). Objects are checked closed (no field the document does not name), so an
 * undocumented field fails as surely as a wrong type. (`.conformance.ts`: not built.)
 */
import { beforeAll, expect } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { LightMyRequestResponse } from 'fastify';
import type { TestServer } from '../testing/test-server.js';
import { OPENAPI_PATH } from './openapi.js';

export type Schema = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
export interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** `schema` with every object that lists its properties closed to others. */
export function closed(schema: unknown): unknown {
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
export class ConformanceChecker {
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

/** The task-model routes (issue 13), whose answers task-model-conformance.test.ts checks. */
export const TASK_MODEL_PATHS = new Set([
  '/api/jobs/{id}/logs',
  '/api/jobs/{id}/events',
  '/api/jobs/{id}/series',
  '/api/jobs/{id}/series/{label}',
  '/api/jobs/{id}/messages',
  '/api/workers',
  '/api/notes',
]);

/**
 * A checker for the file's server, read from its document before the file's first test, and
 * `call`: injects a request, expects its answer to conform, returns it.
 */
export function conformance(listening: TestServer) {
  let checker: ConformanceChecker | undefined;
  beforeAll(async () => {
    const doc = await listening.server.app.inject({ method: 'GET', url: OPENAPI_PATH });
    checker = new ConformanceChecker(doc.json<Document>());
  });
  const get = (): ConformanceChecker => {
    if (!checker)
      throw new Error('The conformance checker is read in beforeAll: use it in a test.');
    return checker;
  };
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
    expect(get().problems(method, path, res)).toEqual([]);
    return res;
  }
  /** Expects every operation whose path `covers` was called with a success and with an error. */
  function expectCovered(covers: (path: string) => boolean): void {
    const doc = get().doc;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!covers(path)) continue;
      for (const method of Object.keys(ops)) {
        const statuses = [...get().seen]
          .filter((seen) => seen.startsWith(`${method.toUpperCase()} ${path} `))
          .map((seen) => Number(seen.split(' ')[2]));
        const where = `${method.toUpperCase()} ${path}: ${statuses.join(', ')}`;
        expect(
          statuses.some((s) => s < 300),
          where,
        ).toBe(true);
        expect(
          statuses.some((s) => s >= 400),
          where,
        ).toBe(true);
      }
    }
  }
  return { call, checker: get, expectCovered };
}

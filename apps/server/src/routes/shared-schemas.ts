/**
 * The protocol's schemas that routes refer to by name (`{ $ref: 'Job#' }`): registered once with
 * `app.addSchema`, they become the OpenAPI document's `components.schemas`.
 */
import type { FastifyInstance } from 'fastify';
import {
  ErrorBody,
  ErrorLine,
  Health,
  JobView,
  ResultWithMeta,
  UploadCount,
} from '@tabgrid/protocol/http';
import { CreateJobRequest } from '@tabgrid/protocol/jobs';
import { ApiKeyInfo, CreateKeyRequest, CreatedKey, WhoAmI } from '@tabgrid/protocol/keys';

export const SHARED_SCHEMAS = {
  ErrorBody,
  Job: JobView,
  CreateJobRequest,
  UploadCount,
  ResultWithMeta,
  ErrorLine,
  CreateKeyRequest,
  ApiKeyInfo,
  CreatedKey,
  WhoAmI,
  Health,
} as const;
export type SharedSchemaName = keyof typeof SHARED_SCHEMAS;

/** A reference to a shared schema, for a route's `schema`. */
export function ref(name: SharedSchemaName): { $ref: string } {
  return { $ref: `${name}#` };
}

export const ERROR_BODY_REF = ref('ErrorBody').$ref;

/** A TypeBox schema as plain JSON Schema: the JSON round trip drops TypeBox's symbol keys. */
export function plainSchema(schema: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/** Registers every shared schema under its name. */
export function addSharedSchemas(app: FastifyInstance): void {
  for (const [name, schema] of Object.entries(SHARED_SCHEMAS)) {
    app.addSchema({ ...plainSchema(schema), $id: name });
  }
}

/** Route options (`{ schema }`) from route schemas, so a route reads `app.get(url, routes.x, handler)`. */
export function routeOptions<T extends Record<string, object>>(
  schemas: T,
): { [K in keyof T]: { schema: T[K] } } {
  const out: Record<string, { schema: object }> = {};
  for (const [name, schema] of Object.entries(schemas)) out[name] = { schema };
  return out as { [K in keyof T]: { schema: T[K] } };
}

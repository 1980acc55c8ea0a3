/** The `schema` of every route under /api/keys and of /api/whoami (see job-schemas.ts). */
import { Type } from '@sinclair/typebox';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { errorResponses } from './error-responses.js';
import { ref, routeOptions } from './shared-schemas.js';

const ADMIN_ONLY = {
  403: 'Only an admin key can manage keys (a viewer key changes nothing).',
} as const;

const KEY_ROUTE_SCHEMAS = {
  create: {
    operationId: 'createKey',
    tags: ['keys'],
    summary: 'Create an API key (admin only)',
    body: ref('CreateKeyRequest'),
    response: {
      201: {
        description: 'The key with its secret: the only time the secret is shown.',
        ...ref('CreatedKey'),
      },
      ...errorResponses(
        {
          400: [
            'The body is not JSON or the name is taken (`TG_ERR_INVALID_REQUEST`), or it is not a valid key request (`TG_ERR_PROTOCOL`).',
            ErrorCode.INVALID_REQUEST,
            ErrorCode.PROTOCOL,
          ],
          ...ADMIN_ONLY,
        },
        { body: true },
      ),
    },
  },
  list: {
    operationId: 'listKeys',
    tags: ['keys'],
    summary: 'List the API keys (admin only)',
    response: {
      200: {
        description: 'The keys, oldest first, without their secrets.',
        type: 'array',
        items: ref('ApiKeyInfo'),
      },
      ...errorResponses(ADMIN_ONLY),
    },
  },
  revoke: {
    operationId: 'revokeKey',
    tags: ['keys'],
    summary: 'Revoke an API key (admin only)',
    params: Type.Object({ id: Type.String({ description: "The key's id." }) }),
    response: {
      204: { description: 'Done; no body.', type: 'null' },
      ...errorResponses(
        { ...ADMIN_ONLY, 404: ['No key with this id.', ErrorCode.KEY_NOT_FOUND] },
        { body: true },
      ),
    },
  },
  whoami: {
    operationId: 'whoAmI',
    tags: ['keys'],
    summary: 'Whose credentials these are',
    description: 'Lets a UI hide what the key may not do.',
    response: { 200: { description: 'The key.', ...ref('WhoAmI') }, ...errorResponses({}) },
  },
};

/** Options (`{ schema }`) of each key route. */
export const KEY_ROUTES = routeOptions(KEY_ROUTE_SCHEMAS);

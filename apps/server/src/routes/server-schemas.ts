/** The `schema` of the routes that need no credentials: the health check and the OpenAPI document. */
import { Type } from '@sinclair/typebox';
import { errorResponses } from './error-responses.js';
import { ref, routeOptions } from './shared-schemas.js';

const SERVER_ROUTE_SCHEMAS = {
  health: {
    operationId: 'health',
    tags: ['server'],
    summary: 'Health and delivery statistics',
    security: [],
    querystring: Type.Object({
      reset: Type.Optional(
        Type.String({
          description:
            'Present (any value): start a new event-loop delay measurement window after answering.',
        }),
      ),
    }),
    response: {
      200: { description: 'The server is up.', ...ref('Health') },
      ...errorResponses({}, { authenticated: false }),
    },
  },
  openapi: {
    operationId: 'openApi',
    tags: ['server'],
    summary: 'This document',
    security: [],
    response: {
      200: {
        description: "The OpenAPI 3.1 document, generated from the routes' schemas.",
        type: 'object',
      },
      ...errorResponses({}, { authenticated: false }),
    },
  },
};

/** Options (`{ schema }`) of the health check and the document. */
export const SERVER_ROUTES = routeOptions(SERVER_ROUTE_SCHEMAS);

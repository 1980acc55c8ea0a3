/** REST of the worker monitor (`GET /api/workers`) and its notes (`POST /api/notes`). */
import type { FastifyInstance } from 'fastify';
import { decodeSdkRequest } from '@tabgrid/protocol/sdk';
import type { Grid } from '../core/grid.js';
import { callerOf } from './auth.js';
import { FEED_ROUTES as route } from './feed-schemas.js';
import { jsonBody } from './json-body.js';

export function monitorRoutes(app: FastifyInstance, grid: Grid): void {
  app.get('/api/workers', route.workers, (request) => grid.workers(callerOf(request)));
  app.post('/api/notes', route.notes, async (request, reply) => {
    // The same request as the SDK's `note:add`, decoded by the same schema.
    const { text } = decodeSdkRequest['note:add'](jsonBody(request.body));
    const { at } = await grid.note(callerOf(request), text);
    // A Note, as the dashboard draws it: epoch ms.
    return reply.code(201).send({ at, text });
  });
}

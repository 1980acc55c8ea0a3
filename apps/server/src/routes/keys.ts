import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeCreateKeyRequest, type WhoAmI } from '@tabgrid/protocol/keys';
import type { KeyRing } from '../auth/key-ring.js';
import { adminOnly } from './auth.js';
import { jsonBody } from './json-body.js';
import { KEY_ROUTES as route } from './key-schemas.js';

function requireAdmin(request: FastifyRequest): void {
  if (request.caller?.role !== 'admin') throw adminOnly();
}

/** `/api/keys`: create (the secret is shown once), list and revoke API keys. Admin only. */
export function keyRoutes(app: FastifyInstance, keys: KeyRing): void {
  app.post('/api/keys', route.create, async (request, reply) => {
    requireAdmin(request);
    return reply.code(201).send(await keys.create(decodeCreateKeyRequest(jsonBody(request.body))));
  });
  // Who the credentials belong to: lets a UI hide what the key may not do.
  app.get('/api/whoami', route.whoami, (request): WhoAmI => ({
    name: request.caller.name,
    role: request.caller.role,
  }));
  app.get('/api/keys', route.list, (request) => {
    requireAdmin(request);
    return keys.list();
  });
  app.delete<{ Params: { id: string } }>('/api/keys/:id', route.revoke, async (request, reply) => {
    requireAdmin(request);
    await keys.revoke(request.params.id);
    return reply.code(204).send();
  });
}

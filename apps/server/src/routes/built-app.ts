/** The worker page and the dashboard: their Vite builds, served as static files. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Serves a Vite build at `prefix`; `csp`, when given, goes with its HTML. */
export function serveBuiltApp(
  app: FastifyInstance,
  root: string,
  prefix: string,
  what: string,
  csp?: string,
): void {
  if (existsSync(join(root, 'index.html'))) {
    void app.register(fastifyStatic, {
      root,
      prefix,
      decorateReply: prefix === '/',
      wildcard: false,
      index: 'index.html',
      setHeaders: (res, path) => {
        if (csp && path.endsWith('.html')) res.setHeader('content-security-policy', csp);
      },
    });
    return;
  }
  app.get(prefix, (_request, reply) =>
    reply
      .code(503)
      .type('text/plain')
      .send(`The ${what} is not built yet: run \`npm run build\` (npm start does it for you).\n`),
  );
}

/**
 * `/sdk.js`: the SDK as one browser ES module (packages/sdk builds it: vite.browser.config.mjs),
 * for pages without a bundler: `import { Tabgrid } from 'https://your-server/sdk.js'`. It is a
 * public file, so it is readable from any origin (a module script from another origin is
 * fetched in CORS mode); calling the API from that page still needs TABGRID_CORS_ORIGINS.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

export const SDK_BUNDLE_PATH = '/sdk.js';

/** Serves `sdk.js` and its source map from `dir`; a 503 saying what to do when not built. */
export function sdkBundleRoutes(app: FastifyInstance, dir: string): void {
  const file = join(dir, 'sdk.js');
  // Read once: it changes only with a rebuild, which restarts the server anyway.
  const bundle = existsSync(file) ? readFileSync(file) : undefined;
  const map = existsSync(`${file}.map`) ? readFileSync(`${file}.map`) : undefined;
  app.get(SDK_BUNDLE_PATH, (_request, reply) => {
    if (!bundle) {
      return reply
        .code(503)
        .type('text/plain')
        .send(
          'The browser SDK is not built yet: run `npm run build` (npm start does it for you).\n',
        );
    }
    return reply
      .header('access-control-allow-origin', '*')
      .header('cache-control', 'no-cache')
      .type('text/javascript; charset=utf-8')
      .send(bundle);
  });
  if (map) {
    app.get(`${SDK_BUNDLE_PATH}.map`, (_request, reply) =>
      reply
        .header('access-control-allow-origin', '*')
        .type('application/json; charset=utf-8')
        .send(map),
    );
  }
}

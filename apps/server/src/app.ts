import { existsSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import type { Server as SocketIoServer } from 'socket.io';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { workerPageCsp } from '@tabgrid/protocol/worker';
import { Scheduler, type Caller } from './scheduler/scheduler.js';
import type { SchedulingOptions } from './scheduler/scheduling-options.js';
import type { JobStore } from './store/job-store.js';
import { SqliteJobStore } from './store/sqlite-job-store.js';
import { KeyRing } from './keys/key-ring.js';
import { authenticate, viewerCannotChange } from './routes/auth.js';
import { jobRoutes } from './routes/jobs.js';
import { keyRoutes } from './routes/keys.js';
import { OPENAPI_PATH, openApiRoutes } from './routes/openapi.js';
import type { KeyStore } from './store/key-store.js';
import { SqliteKeyStore } from './store/sqlite-key-store.js';
import { SDK_SOCKET_PATH, attachSdkSocket } from './routes/sdk-socket.js';
import { workerSocketOptions, workerSocketRoutes } from './routes/worker-socket.js';
import { fromOpaqueOrigin, opaqueOriginRefused } from './job-code-policy.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

export interface AppOptions {
  /** Directory of the SQLite database (ignored for the stores that are given). */
  dataDir?: string;
  store?: JobStore;
  keyStore?: KeyStore;
  adminToken: string;
  /** Built worker page and dashboard; default: the sibling apps' dist folders. */
  workerWebDir?: string;
  dashboardDir?: string;
  logger?: boolean;
  /** Scheduling tunables (redundancy across one address, crash limits); see SchedulingOptions. */
  scheduling?: SchedulingOptions;
}

export interface App {
  app: FastifyInstance;
  scheduler: Scheduler;
  io: SocketIoServer;
}

const appsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Builds the whole server without listening: tests call `app.inject()` or `listen({ port: 0 })`,
 * main.ts listens on the configured port.
 */
export async function buildApp(options: AppOptions): Promise<App> {
  const store = options.store ?? new SqliteJobStore(options.dataDir ?? '.tabgrid');
  const keyStore = options.keyStore ?? new SqliteKeyStore(options.dataDir ?? '.tabgrid');
  const scheduler = await Scheduler.open({ store, ...options.scheduling });
  const keys = await KeyRing.open(keyStore, options.adminToken);
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 64 * 1024 * 1024,
    // CrowdProcess clients call /api/jobs/ with a trailing slash, and its Python client deletes
    // /api/jobs//ID.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
  });

  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof TabgridError) return reply.code(err.status).send(err.toBody());
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply
        .code(status)
        .send(new TabgridError(ErrorCode.INVALID_REQUEST, (err as Error).message).toBody());
    }
    app.log.error(err);
    return reply
      .code(500)
      .send(
        new TabgridError(ErrorCode.INTERNAL, 'Internal server error; see the server log.').toBody(),
      );
  });
  app.decorateRequest('caller', undefined as unknown as Caller);
  app.addHook('onRequest', (request, _reply, done) => {
    // Job code may reach this server (job-code-policy.ts) and gets nothing. Socket upgrades
    // are judged by the socket servers themselves: an error here would leave them hanging.
    if (fromOpaqueOrigin(request.headers) && !request.headers.upgrade) {
      return done(opaqueOriginRefused());
    }
    // The matched route, not the raw URL: the router forgives `//api/jobs`, so must this check.
    const path = request.routeOptions.url ?? request.url.replace(/\/{2,}/g, '/');
    if (!path.startsWith('/api/')) return done();
    // The API's description is public; every other /api/ route needs credentials.
    if (request.routeOptions.url === OPENAPI_PATH) return done();
    try {
      request.caller = authenticate(keys, request.headers.authorization);
    } catch (err) {
      return done(err as Error);
    }
    if (request.caller.role === 'viewer' && request.method !== 'GET' && request.method !== 'HEAD') {
      return done(viewerCannotChange());
    }
    done();
  });
  // Bodies are JSON whatever their Content-Type says; routes decode them with the protocol.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  // Event-loop delay: the first thing to look at when the server feels slow.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loopDelay.enable();
  // `?reset` starts a new measurement window after answering (benchmarks use it).
  app.get<{ Querystring: { reset?: string } }>('/healthz', (request) => {
    const health = {
      ok: true,
      workers: scheduler.workers.size,
      ...scheduler.stats,
      eventLoopDelayMs: {
        p50: loopDelayMs(loopDelay.percentile(50)),
        p99: loopDelayMs(loopDelay.percentile(99)),
        max: loopDelayMs(loopDelay.max),
      },
      rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
    };
    if (request.query.reset !== undefined) loopDelay.reset();
    return health;
  });

  await app.register(fastifyWebsocket, { options: workerSocketOptions });
  workerSocketRoutes(app, scheduler);
  jobRoutes(app, scheduler);
  keyRoutes(app, keys);
  openApiRoutes(app);
  serveBuiltApp(
    app,
    options.workerWebDir ?? join(appsDir, 'worker-web', 'dist'),
    '/',
    'worker page',
    workerPageCsp(),
  );
  serveBuiltApp(
    app,
    options.dashboardDir ?? join(appsDir, 'dashboard', 'dist'),
    '/dashboard/',
    'dashboard',
  );

  const fastifyUpgrades = app.server.listeners('upgrade');
  const io = attachSdkSocket(app.server, scheduler, keys);
  routeUpgrades(app, fastifyUpgrades);

  app.addHook('preClose', (done) => {
    loopDelay.disable();

    scheduler.close();
    io.disconnectSockets(true);
    io.engine.close();
    done();
  });
  app.addHook('onClose', async () => {
    await store.close();
    await keyStore.close();
  });
  return { app, scheduler, io };
}

const LOOP_DELAY_RESOLUTION_MS = 10;
/** Node samples the time between its timer's ticks: the delay is what exceeds the interval. */
function loopDelayMs(nanoseconds: number): number {
  return Math.max(0, nanoseconds / 1e6 - LOOP_DELAY_RESOLUTION_MS);
}

type UpgradeListener = (...args: unknown[]) => void;

/**
 * Fastify (worker socket) and socket.io both listen for HTTP upgrades on the same server; each
 * would answer the other's requests (Fastify with a 404). Route each upgrade to its owner.
 */
function routeUpgrades(app: FastifyInstance, fastifyUpgrades: unknown[]): void {
  const all = app.server.listeners('upgrade') as UpgradeListener[];
  const ours = new Set(fastifyUpgrades as UpgradeListener[]);
  const socketIo = all.filter((listener) => !ours.has(listener));
  app.server.removeAllListeners('upgrade');
  app.server.on('upgrade', (...args: unknown[]) => {
    const url = (args[0] as { url?: string }).url ?? '';
    for (const listener of url.startsWith(SDK_SOCKET_PATH) ? socketIo : ours) listener(...args);
  });
}

/** Serves a Vite build at `prefix`; `csp`, when given, goes with its HTML. */
function serveBuiltApp(
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

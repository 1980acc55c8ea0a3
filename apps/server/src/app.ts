import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import type { Server as SocketIoServer } from 'socket.io';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { workerPageCsp } from '@tabgrid/protocol/worker';
import type { Caller } from './auth/caller.js';
import { Grid, type Clock, type RandomSource, type SchedulingOptions } from './core/grid.js';
import type { Scheduler } from './core/scheduler.js';
import type { JobStore } from './store/job-store.js';
import type { ClusterNode, ClusterNodeOptions } from './cluster/cluster-node.js';
import { openStores } from './open-stores.js';
import type { TrustProxy } from './config.js';
import { AuthThrottle, RateLimitedError, type AuthThrottleOptions } from './auth/auth-throttle.js';
import { KeyRing } from './auth/key-ring.js';
import { loadHashingKey } from './auth/secret-hash.js';
import { MAX_JSON_BODY_BYTES } from './routes/bounds.js';
import { authenticate, viewerCannotChange } from './routes/auth.js';
import { jobRoutes } from './routes/jobs.js';
import { keyRoutes } from './routes/keys.js';
import { monitorRoutes } from './routes/monitor.js';
import { OPENAPI_PATH, registerOpenApi } from './routes/openapi.js';
import { SERVER_ROUTES } from './routes/server-schemas.js';
import type { KeyStore } from './store/key-store.js';
import { SDK_SOCKET_PATH, attachSdkSocket } from './routes/sdk-socket.js';
import {
  type WorkerSocketOptions,
  workerSocketOptions,
  workerSocketRoutes,
} from './routes/worker-socket.js';
import { fromOpaqueOrigin, opaqueOriginRefused } from './job-code-policy.js';
import { logRequestErrors } from './ops/request-log.js';
import { metricsRoute } from './ops/metrics.js';
import { Retention } from './ops/retention.js';
import { WorkerCountLog } from './ops/worker-count-log.js';
import { type CorsOrigins, registerCors } from './routes/cross-origin.js';
import { sdkBundleRoutes } from './routes/sdk-bundle.js';
import { serveBuiltApp } from './routes/built-app.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

export interface AppOptions {
  /** Directory of the SQLite database and the key-hashing secret (ignored for what is given). */
  dataDir?: string;
  /** Keys the HMAC that API key secrets are stored under; default: read from (or made in) the data dir. */
  hashingKey?: Buffer;
  /**
   * PostgreSQL for the jobs and keys (TABGRID_DATABASE_URL) instead of SQLite in `dataDir`
   * (which still holds the key-hashing secret); ignored for the stores given.
   */
  databaseUrl?: string;
  /**
   * This node among several on the PostgreSQL of `databaseUrl` (TABGRID_NODE_ID,
   * TABGRID_LEASE_TTL_MS; see cluster/cluster-node.ts). Every PostgreSQL server is one, alone or not.
   */
  cluster?: ClusterNodeOptions;
  store?: JobStore;
  keyStore?: KeyStore;
  adminToken: string;
  /** Built worker page and dashboard; default: the sibling apps' dist folders. */
  workerWebDir?: string;
  dashboardDir?: string;
  logger?: boolean;
  /**
   * The server's logger (ops/logging.ts): Fastify's, and the core's job lifecycle lines. Takes
   * the place of `logger`.
   */
  loggerInstance?: FastifyBaseLogger;
  /** Finished jobs older than this many days are deleted (TABGRID_RETAIN_DAYS); default: kept. */
  retainDays?: number;
  /**
   * Whose `X-Forwarded-For` to believe (Fastify's `trustProxy`); default false. It decides a
   * worker's address, which redundancy, strikes, per-address caps and auth throttling key on.
   */
  trustProxy?: TrustProxy;
  /** Origins whose pages may call REST and socket.io (TABGRID_CORS_ORIGINS); default none. */
  cors?: CorsOrigins;
  /** The browser SDK bundle's folder (`/sdk.js`); default packages/sdk/dist/browser. */
  sdkBundleDir?: string;
  /** Per-address socket cap and hello deadline of `/ws/worker` (defaults in worker-socket.ts). */
  workerSocket?: WorkerSocketOptions;
  /** How long a request (headers and body) may take to arrive; default {@link REQUEST_TIMEOUT_MS}. */
  requestTimeoutMs?: number;
  /** Failed authentications per address before 429 (default 20 per 10 s). */
  authThrottle?: AuthThrottleOptions;
  /** Scheduling tunables (redundancy across one address, crash limits); see SchedulingOptions. */
  scheduling?: SchedulingOptions;
  /** Time and timers of the core (default the real clock); tests inject a fake one. */
  clock?: Clock;
  /** Random numbers in [0, 1) for the retry backoff's jitter (default Math.random). */
  random?: RandomSource;
}

/** Default time for a whole request to arrive: a slow upload of hundreds of MB still fits. */
export const REQUEST_TIMEOUT_MS = 120_000;
/** Request line plus headers (node's `maxHeaderSize`); more is 431. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Longest URL; more is 414. */
export const MAX_URL_LENGTH = 8 * 1024;

export interface App {
  app: FastifyInstance;
  grid: Grid;
  /** This node among several (on PostgreSQL). */
  clusterNode?: ClusterNode;
  /** The core behind the grid, for tests and diagnostics (routes use `grid`). */
  scheduler: Scheduler;
  io: SocketIoServer;
}

const appsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Builds the whole server without listening: tests call `app.inject()` or `listen({ port: 0 })`,
 * main.ts listens on the configured port.
 */
export async function buildApp(options: AppOptions): Promise<App> {
  const dataDir = options.dataDir ?? '.tabgrid';
  const { store, keyStore, clusterNode } = await openStores({ ...options, dataDir });
  const grid = await Grid.open({
    store,
    ...(clusterNode ? { cluster: clusterNode } : {}),
    ...(options.loggerInstance ? { log: options.loggerInstance } : {}),
    ...options.scheduling,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const keys = await KeyRing.open(
    keyStore,
    options.adminToken,
    options.hashingKey ?? loadHashingKey(dataDir),
  );
  const throttle = new AuthThrottle(options.authThrottle);
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const app = Fastify({
    ...(options.loggerInstance
      ? { loggerInstance: options.loggerInstance }
      : { logger: options.logger ?? false }),
    // One line per request would drown the log at scale: errors are logged with their code
    // (ops/request-log.ts), every request only at debug.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: options.trustProxy ?? false,
    bodyLimit: MAX_JSON_BODY_BYTES,
    // Slow bodies (slowloris, or a client that stopped sending) are cut off with a 408.
    requestTimeout,
    http: {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: Math.min(requestTimeout, 20_000),
      // Node looks for requests over their time only this often (default 30 s).
      connectionsCheckingInterval: Math.max(100, Math.min(5_000, requestTimeout / 4)),
    },
    clientErrorHandler,
    // A malformed URL, or a path parameter over the router's limit (414): the same error body.
    frameworkErrors: (err, _request, reply) => {
      const status = (err as { statusCode?: number }).statusCode ?? 400;
      const error = new TabgridError(
        CODE_BY_STATUS[status] ?? ErrorCode.INVALID_REQUEST,
        err.message,
      );
      reply.hijack();
      reply.raw
        .writeHead(status, {
          'content-type': 'application/json; charset=utf-8',
          connection: 'close',
        })
        .end(JSON.stringify(error.toBody()));
    },
    // CrowdProcess clients call /api/jobs/ with a trailing slash, and its Python client deletes
    // /api/jobs//ID.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(
        new TabgridError(
          ErrorCode.NOT_FOUND,
          `No route ${request.method} ${request.url.slice(0, 200)}. The API is under /api/ (GET /api/openapi.json describes it).`,
        ).toBody(),
      ),
  );
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof RateLimitedError) {
      void reply.header('retry-after', String(err.retryAfterSeconds));
    }
    if (err instanceof TabgridError) return reply.code(err.status).send(err.toBody());
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      const code = CODE_BY_STATUS[status] ?? ErrorCode.INVALID_REQUEST;
      return reply.code(status).send(new TabgridError(code, (err as Error).message).toBody());
    }
    request.log.error(
      { err, code: ErrorCode.INTERNAL, method: request.method, route: request.routeOptions.url },
      'request failed',
    );
    return reply
      .code(500)
      .send(
        new TabgridError(ErrorCode.INTERNAL, 'Internal server error; see the server log.').toBody(),
      );
  });
  app.decorateRequest('caller', undefined as unknown as Caller);
  // Before authentication: a refused request still carries CORS headers the page can read.
  await registerCors(app, options.cors ?? []);
  app.addHook('onRequest', (request, reply, done) => {
    // Job code may reach this server (job-code-policy.ts) and gets nothing. Socket upgrades
    // are judged by the socket servers themselves: an error here would leave them hanging.
    if (fromOpaqueOrigin(request.headers) && !request.headers.upgrade) {
      return done(opaqueOriginRefused());
    }
    if (request.url.length > MAX_URL_LENGTH) {
      return done(
        new TabgridError(
          ErrorCode.URI_TOO_LONG,
          `URLs are limited to ${MAX_URL_LENGTH} characters: send large values in the body.`,
        ),
      );
    }
    // The matched route, not the raw URL: the router forgives `//api/jobs`, so must this check.
    const path = request.routeOptions.url ?? request.url.replace(/\/{2,}/g, '/');
    if (!path.startsWith('/api/')) return done();
    // The API's description is public; every other /api/ route needs credentials.
    if (request.routeOptions.url === OPENAPI_PATH) return done();
    try {
      request.caller = authenticate(keys, request.headers.authorization, throttle, request.ip);
    } catch (err) {
      // Refused before its body was read: do not wait for the rest of it on this connection.
      void reply.header('connection', 'close');
      return done(err as Error);
    }
    if (request.caller.role === 'viewer' && request.method !== 'GET' && request.method !== 'HEAD') {
      return done(viewerCannotChange());
    }
    done();
  });
  logRequestErrors(app);
  // Before any route: the OpenAPI document is generated from the routes' schemas.
  await registerOpenApi(app);
  // Bodies are JSON whatever their Content-Type says; routes decode them with the protocol.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  // Event-loop delay: the first thing to look at when the server feels slow.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loopDelay.enable();
  // `?reset` starts a new measurement window after answering (benchmarks use it).
  app.get<{ Querystring: { reset?: string } }>('/healthz', SERVER_ROUTES.health, (request) => {
    const health = {
      ok: true,
      ...grid.health(),
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
  workerSocketRoutes(app, grid, options.workerSocket);
  jobRoutes(app, grid);
  keyRoutes(app, keys);
  monitorRoutes(app, grid);
  metricsRoute(app, { grid, ...(store.commitTimes ? { commitTimes: store.commitTimes } : {}) });
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
  sdkBundleRoutes(
    app,
    options.sdkBundleDir ?? join(appsDir, '..', 'packages', 'sdk', 'dist', 'browser'),
  );
  const io = attachSdkSocket(app.server, grid, keys, throttle, {
    cors: options.cors ?? [],
    trustProxy: options.trustProxy ?? false,
  });
  routeUpgrades(app, fastifyUpgrades);

  const workerCounts = new WorkerCountLog(() => grid.metrics(), app.log);
  workerCounts.start();
  const retention =
    options.retainDays === undefined
      ? undefined
      : new Retention({
          grid,
          ...(store.reclaimSpace ? { reclaimSpace: () => store.reclaimSpace!() } : {}),
          clock: options.clock ?? { now: () => Date.now() },
          log: app.log,
          retainDays: options.retainDays,
        });
  retention?.start();

  app.addHook('preClose', (done) => {
    loopDelay.disable();
    workerCounts.stop();
    retention?.stop();

    grid.close();
    io.disconnectSockets(true);
    io.engine.close();
    done();
  });
  app.addHook('onClose', async () => {
    await clusterNode?.stop();
    await store.close();
    await keyStore.close();
  });
  await clusterNode?.start(grid.scheduler);
  return { app, grid, scheduler: grid.scheduler, io, ...(clusterNode ? { clusterNode } : {}) };
}

/** The code for each 4xx status Fastify or node may answer with by themselves. */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  404: ErrorCode.NOT_FOUND,
  408: ErrorCode.REQUEST_TIMEOUT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  414: ErrorCode.URI_TOO_LONG,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  429: ErrorCode.RATE_LIMITED,
  431: ErrorCode.HEADERS_TOO_LARGE,
};

/**
 * Errors node's HTTP parser raises before Fastify sees a request (headers over
 * {@link MAX_HEADER_BYTES}, a request over its time, malformed HTTP): answered with the same
 * error body as everything else, then the connection is closed.
 */
function clientErrorHandler(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new TabgridError(
          ErrorCode.HEADERS_TOO_LARGE,
          `The request line and headers exceed ${MAX_HEADER_BYTES / 1024} KB.`,
        )
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new TabgridError(
            ErrorCode.REQUEST_TIMEOUT,
            'The request did not arrive in time: send the body without pauses, or in several uploads.',
          )
        : new TabgridError(ErrorCode.INVALID_REQUEST, 'Malformed HTTP request.');
  // Only when no answer has started on this connection: a second one would corrupt it.
  if (socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0) {
    const body = JSON.stringify(error.toBody());
    socket.write(
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
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

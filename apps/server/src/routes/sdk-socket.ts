import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { createRequire } from 'node:module';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { Outcome } from '@tabgrid/protocol/jobs';
import {
  decodeSdkRequest,
  type Ack,
  type ClientToServerEvents,
  type SdkRequestName,
  type ServerToClientEvents,
} from '@tabgrid/protocol/sdk';
import { fromOpaqueOrigin } from '../job-code-policy.js';
import type { TrustProxy } from '../config.js';
import { clientAddressOf } from './client-address.js';
import { type CorsOrigins, socketIoCors, socketOriginAllowed } from './cross-origin.js';
import type { Grid } from '../core/grid.js';
import { RateLimitedError, type AuthThrottle } from '../auth/auth-throttle.js';
import type { KeyRing } from '../auth/key-ring.js';
import { MAX_SOCKET_ATTACHMENTS, MAX_SOCKET_MESSAGE_BYTES, checkSocketPayload } from './bounds.js';
import { unauthorized, viewerCannotChange } from './auth.js';
import { addSubscription, feedHandlers, stopStream } from './sdk-feeds.js';
import { ignoreAck, pushInRuns, type PushedValue } from './push-runs.js';
import type { Handler, SdkHandlers, SdkSocket, SocketData } from './sdk-socket-types.js';

export const SDK_SOCKET_PATH = '/socket.io/';
export { MAX_SUBSCRIPTIONS_PER_SOCKET } from './sdk-feeds.js';
/**
 * Packets queued for a socket that has stopped reading before the server hangs up on it. Streams
 * resume from their last seq, so a consumer that is cut off loses nothing by reconnecting.
 */
export const MAX_QUEUED_PACKETS = 256;

// The CommonJS build, the one socket.io itself loads: Node's `import` condition of
// socket.io-parser is its debug build, whose encoder logs through `debug` on every packet.
const parser = createRequire(import.meta.url)(
  'socket.io-parser',
) as typeof import('socket.io-parser');

/** socket.io's parser, with at most {@link MAX_SOCKET_ATTACHMENTS} binary attachments a message. */
class BoundedDecoder extends parser.Decoder {
  constructor() {
    super({ maxAttachments: MAX_SOCKET_ATTACHMENTS });
  }
}
const boundedParser = { Encoder: parser.Encoder, Decoder: BoundedDecoder };

/**
 * Packets created for `conn` and not yet handed to its transport, from engine.io's public
 * events: a socket that stopped reading leaves its packets here.
 */
function queuedPackets(conn: SdkSocket['conn']): () => number {
  let queued = 0;
  conn.on('packetCreate', () => queued++);
  conn.on('flush', (buffer: unknown[]) => (queued -= buffer.length));
  return () => queued;
}

/** Requests a viewer key may make. */
const READ_ONLY = new Set<SdkRequestName>([
  'job:get',
  'jobs:list',
  'job:subscribe',
  'job:unsubscribe',
  'job:follow',
  'job:series-labels',
  'jobs:latest',
  'workers:list',
  'dashboard:subscribe',
  'dashboard:unsubscribe',
]);

/** Typed arrays in a result go to the SDK as binary attachments, not base64. */
const outcomeValue: PushedValue<Outcome> = {
  valueOf: (outcome) => (outcome.ok ? outcome.value : undefined),
  withValue: (outcome, value) => ({ ...outcome, value }) as Outcome,
};

function failure(err: unknown): Ack<never> {
  const error =
    err instanceof TabgridError
      ? err
      : new TabgridError(ErrorCode.INTERNAL, 'Internal server error; see the server log.');
  if (!(err instanceof TabgridError)) console.error('tabgrid: sdk request failed:', err);
  return { ok: false, ...error.toBody() };
}

/**
 * Request handlers, one per client → server event of the protocol. `dashboardFeeds` holds, by
 * socket id, the function that stops that socket's dashboard feed.
 */
function handlers(grid: Grid, dashboardFeeds: Map<string, () => void>): SdkHandlers {
  return {
    ...feedHandlers(grid),
    'job:create': (caller, req) => grid.createJob(caller, req),
    'job:get': (caller, req) => grid.job(caller, req.jobId).info(),
    'jobs:list': (caller) => grid.listJobs(caller),
    'jobs:delete': async (caller) => ({ deleted: await grid.deleteJobs(caller) }),
    'job:submit': (caller, req) => grid.submit(caller, req.jobId, req.batchId, req.tasks),
    'job:close': (caller, req) => grid.closeJob(caller, req.jobId),
    'job:cancel': (caller, req) => grid.cancelJob(caller, req.jobId),
    'job:resume': (caller, req) => grid.resumeJob(caller, req.jobId),
    'job:delete': async (caller, req) => {
      await grid.deleteJob(caller, req.jobId);
      return { deleted: true };
    },
    'job:subscribe': (caller, req, socket) => {
      grid.job(caller, req.jobId);
      addSubscription(socket, req.subscriptionId);
      const id = `${socket.id}:${req.subscriptionId}`;
      grid.subscribe(
        id,
        req.jobId,
        req.kind,
        req.from,
        {
          push: (items, ready) =>
            pushInRuns(items, outcomeValue, (run, last) => {
              const push = { subscriptionId: req.subscriptionId, jobId: req.jobId, items: run };
              // The stream is paced by the last run's ack (the SDK acks pushes in order).
              socket.emit('job:outcomes', push, last ? ready : ignoreAck);
            }),
          end: (reason, message) =>
            socket.emit('job:end', {
              subscriptionId: req.subscriptionId,
              jobId: req.jobId,
              reason,
              ...(message === undefined ? {} : { message }),
            }),
        },
        { provenance: req.provenance === true },
      );
      return { subscribed: true };
    },
    'job:unsubscribe': (_caller, req, socket) => {
      stopStream(grid, socket, req.subscriptionId);
      return { unsubscribed: true };
    },
    'dashboard:subscribe': (caller, req, socket) => {
      const job = req.jobId ? grid.job(caller, req.jobId) : undefined;
      dashboardFeeds.get(socket.id)?.();
      let sending = false;
      const stop = grid.onTick(() => {
        // A slow client skips ticks instead of queueing them.
        if (sending || socket.data.queued() > 0) return;
        sending = true;
        grid.snapshot(caller, req.jobId).then(
          (stats) => {
            socket.emit('dashboard:stats', stats);
            sending = false;
          },
          (err: unknown) => {
            sending = false;
            console.error('tabgrid: dashboard stats failed:', err);
          },
        );
      });
      dashboardFeeds.set(socket.id, () => {
        stop();
        dashboardFeeds.delete(socket.id);
      });
      return grid.history(job);
    },
    'dashboard:unsubscribe': (_caller, _req, socket) => {
      dashboardFeeds.get(socket.id)?.();
      return { unsubscribed: true };
    },
  };
}

/** Who may reach the socket from a page, and whose forwarded address to believe. */
export interface SdkSocketAccess {
  cors: CorsOrigins;
  trustProxy: TrustProxy;
}

/**
 * socket.io for the SDK and the dashboard. The token is checked in the handshake; every request
 * payload is validated by the protocol package before use, and every answer is an Ack.
 */
export function attachSdkSocket(
  httpServer: HttpServer,
  grid: Grid,
  keys: KeyRing,
  throttle: AuthThrottle,
  access: SdkSocketAccess = { cors: [], trustProxy: false },
): Server {
  const clientAddress = clientAddressOf(access.trustProxy);
  const cors = socketIoCors(access.cors);
  const io = new Server<
    ClientToServerEvents,
    ServerToClientEvents,
    Record<string, never>,
    SocketData
  >(httpServer, {
    path: SDK_SOCKET_PATH,
    serveClient: false,
    // Upgrades for other paths (the worker socket) belong to Fastify: never destroy them.
    destroyUpgrade: false,
    maxHttpBufferSize: MAX_SOCKET_MESSAGE_BYTES,
    parser: boundedParser,
    // Job code may reach this server and gets nothing (job-code-policy.ts); a page of another
    // origin only when TABGRID_CORS_ORIGINS allows it (cross-origin.ts).
    allowRequest: (request, callback) =>
      callback(
        null,
        !fromOpaqueOrigin(request.headers) &&
          socketOriginAllowed(request, access.cors, access.trustProxy !== false),
      ),
    ...(cors ? { cors } : {}),
  });
  io.use((socket, next) => {
    const address = clientAddress(socket.request);
    const refuse = (error: TabgridError) =>
      next(Object.assign(new Error(error.message), { data: error.toBody() }));
    const wait = throttle.retryAfter(address);
    if (wait > 0) {
      const limited = new RateLimitedError(
        wait,
        `Too many failed authentications from this address: wait ${wait} s and check the token.`,
      );
      return refuse(limited);
    }
    const token: unknown = (socket.handshake.auth as Record<string, unknown>).token;
    const caller = keys.verify(typeof token === 'string' ? token : undefined);
    if (!caller) {
      throttle.failed(address);
      return refuse(unauthorized());
    }
    socket.data.caller = caller;
    socket.data.subscriptions = new Set();
    socket.data.queued = queuedPackets(socket.conn);
    next();
  });
  const dashboardFeeds = new Map<string, () => void>();
  const handle = handlers(grid, dashboardFeeds);
  io.on('connection', (socket: SdkSocket) => {
    for (const name of Object.keys(handle) as SdkRequestName[]) {
      socket.on(name, async (payload: unknown, ack: unknown) => {
        if (typeof ack !== 'function') return;
        // A client that sends requests but reads no answers would grow the queue forever.
        if (socket.data.queued() > MAX_QUEUED_PACKETS) {
          socket.disconnect(true);
          return;
        }
        const reply = ack as (answer: Ack<unknown>) => void;
        try {
          if (socket.data.caller.role === 'viewer' && !READ_ONLY.has(name))
            throw viewerCannotChange();
          // Before anything walks it: depth, and typed arrays referred to more than once.
          checkSocketPayload(payload, `The ${name} request`);
          const req = decodeSdkRequest[name](payload);
          const data = await (handle[name] as Handler<SdkRequestName>)(
            socket.data.caller,
            req,
            socket,
          );
          reply({ ok: true, data });
        } catch (err) {
          reply(failure(err));
        }
      });
    }
    socket.on('disconnect', () => {
      dashboardFeeds.get(socket.id)?.();
      for (const id of [...socket.data.subscriptions]) stopStream(grid, socket, id);
    });
  });
  return io;
}

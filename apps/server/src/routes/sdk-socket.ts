import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { textToSocketForm } from '@tabgrid/protocol/bytes';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { Outcome } from '@tabgrid/protocol/jobs';
import {
  decodeSdkRequest,
  type Ack,
  type ClientToServerEvents,
  type SdkRequest,
  type SdkRequestName,
  type SdkResponses,
  type ServerToClientEvents,
} from '@tabgrid/protocol/sdk';
import { fromOpaqueOrigin } from '../job-code-policy.js';
import type { Caller, Scheduler } from '../scheduler/scheduler.js';
import type { KeyRing } from '../keys/key-ring.js';
import { unauthorized, viewerCannotChange } from './auth.js';

export const SDK_SOCKET_PATH = '/socket.io/';

/** Requests a viewer key may make. */
const READ_ONLY = new Set<SdkRequestName>([
  'job:get',
  'jobs:list',
  'job:subscribe',
  'job:unsubscribe',
  'dashboard:subscribe',
  'dashboard:unsubscribe',
]);

type SdkSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  { caller: Caller }
>;
type Handler<E extends SdkRequestName> = (
  caller: Caller,
  req: SdkRequest<E>,
  socket: SdkSocket,
) => Promise<SdkResponses[E]> | SdkResponses[E];

/** Typed arrays in a result go to the SDK as binary attachments, not base64. */
function binaryOut(outcome: Outcome): Outcome {
  if (!outcome.ok || typeof outcome.value !== 'object' || outcome.value === null) return outcome;
  const value = textToSocketForm(outcome.value);
  return value === outcome.value ? outcome : { ...outcome, value };
}

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
function handlers(
  scheduler: Scheduler,
  dashboardFeeds: Map<string, () => void>,
): { [E in SdkRequestName]: Handler<E> } {
  return {
    'job:create': (caller, req) => scheduler.createJob(caller, req),
    'job:get': (caller, req) => scheduler.job(caller, req.jobId).info(),
    'jobs:list': (caller) => scheduler.listJobs(caller),
    'jobs:delete': async (caller) => ({ deleted: await scheduler.deleteJobs(caller) }),
    'job:submit': (caller, req) => scheduler.submit(caller, req.jobId, req.batchId, req.tasks),
    'job:close': (caller, req) => scheduler.closeJob(caller, req.jobId),
    'job:cancel': (caller, req) => scheduler.cancelJob(caller, req.jobId),
    'job:resume': (caller, req) => scheduler.resumeJob(caller, req.jobId),
    'job:delete': async (caller, req) => {
      await scheduler.deleteJob(caller, req.jobId);
      return { deleted: true };
    },
    'job:subscribe': (caller, req, socket) => {
      scheduler.job(caller, req.jobId);
      const id = `${socket.id}:${req.subscriptionId}`;
      scheduler.streams.subscribe(id, req.jobId, req.kind, req.from, {
        push: (items, ready) =>
          socket.emit(
            'job:outcomes',
            { subscriptionId: req.subscriptionId, jobId: req.jobId, items: items.map(binaryOut) },
            ready,
          ),
        end: (reason) =>
          socket.emit('job:end', { subscriptionId: req.subscriptionId, jobId: req.jobId, reason }),
      });
      return { subscribed: true };
    },
    'job:unsubscribe': (_caller, req, socket) => {
      scheduler.streams.unsubscribe(`${socket.id}:${req.subscriptionId}`);
      return { unsubscribed: true };
    },
    'dashboard:subscribe': (caller, req, socket) => {
      const job = req.jobId ? scheduler.job(caller, req.jobId) : undefined;
      dashboardFeeds.get(socket.id)?.();
      let sending = false;
      const stop = scheduler.statsCollector.onTick(() => {
        if (sending) return; // a slow client skips ticks instead of queueing them
        sending = true;
        scheduler.statsCollector.snapshot(caller, req.jobId).then(
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
      return scheduler.statsCollector.history(job);
    },
    'dashboard:unsubscribe': (_caller, _req, socket) => {
      dashboardFeeds.get(socket.id)?.();
      return { unsubscribed: true };
    },
  };
}

/**
 * socket.io for the SDK and the dashboard. The token is checked in the handshake; every request
 * payload is validated by the protocol package before use, and every answer is an Ack.
 */
export function attachSdkSocket(
  httpServer: HttpServer,
  scheduler: Scheduler,
  keys: KeyRing,
): Server {
  const io = new Server<
    ClientToServerEvents,
    ServerToClientEvents,
    Record<string, never>,
    { caller: Caller }
  >(httpServer, {
    path: SDK_SOCKET_PATH,
    serveClient: false,
    // Upgrades for other paths (the worker socket) belong to Fastify: never destroy them.
    destroyUpgrade: false,
    maxHttpBufferSize: 64 * 1024 * 1024,
    // Job code may reach this server and gets nothing (job-code-policy.ts).
    allowRequest: (request, callback) => callback(null, !fromOpaqueOrigin(request.headers)),
  });
  io.use((socket, next) => {
    const token: unknown = (socket.handshake.auth as Record<string, unknown>).token;
    const caller = keys.verify(typeof token === 'string' ? token : undefined);
    if (!caller)
      return next(
        Object.assign(new Error(unauthorized().message), { data: unauthorized().toBody() }),
      );
    socket.data.caller = caller;
    next();
  });
  const dashboardFeeds = new Map<string, () => void>();
  const handle = handlers(scheduler, dashboardFeeds);
  io.on('connection', (socket: SdkSocket) => {
    const subscriptions = new Set<string>();
    for (const name of Object.keys(handle) as SdkRequestName[]) {
      socket.on(name, async (payload: unknown, ack: unknown) => {
        if (typeof ack !== 'function') return;
        const reply = ack as (answer: Ack<unknown>) => void;
        try {
          if (socket.data.caller.role === 'viewer' && !READ_ONLY.has(name))
            throw viewerCannotChange();
          const req = decodeSdkRequest[name](payload);
          if (name === 'job:subscribe')
            subscriptions.add((req as SdkRequest<'job:subscribe'>).subscriptionId);
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
      for (const id of subscriptions) scheduler.streams.unsubscribe(`${socket.id}:${id}`);
    });
  });
  return io;
}

/**
 * Worker ↔ server messages on the raw WebSocket at `/ws/worker`. Text frames of JSON, one
 * message per frame, tasks and outcomes always in batches.
 *
 * Flow control is credit-based: the worker grants slots (`hello.credit`, `outcomes.credit`,
 * `credit`), and the server never has more tasks outstanding on a connection than it was
 * granted. A job's program and args travel once per connection (`job`), then only inputs.
 */
import { Type, type Static } from '@sinclair/typebox';
import { createFrameDecoder } from './codec.js';

const JobId = Type.String({ minLength: 1, maxLength: 64 });
const Index = Type.Integer({ minimum: 0 });

// ---- worker → server ------------------------------------------------------------------

/** First frame of every connection. */
export const WorkerHello = Type.Object({
  type: Type.Literal('hello'),
  protocol: Type.Integer(),
  threads: Type.Integer({ minimum: 1, maximum: 1024 }),
  userAgent: Type.String({ maxLength: 1000 }),
  /** Initial slots granted to the server. */
  credit: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
});

/** Grants `slots` more tasks to the server. */
export const WorkerCredit = Type.Object({
  type: Type.Literal('credit'),
  slots: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
});

export const WorkerFailure = Type.Object({
  name: Type.String(),
  message: Type.String(),
  stack: Type.String(),
  /** True when the thread was terminated because `Run` exceeded the job's timeoutMs. */
  timedOut: Type.Optional(Type.Boolean()),
});
export type WorkerFailure = Static<typeof WorkerFailure>;

export const WorkerOutcome = Type.Union([
  Type.Object({
    jobId: JobId,
    index: Index,
    /** Compute time of this `Run` call in ms. */
    ms: Type.Number({ minimum: 0 }),
    ok: Type.Literal(true),
    value: Type.Unknown(),
  }),
  Type.Object({
    jobId: JobId,
    index: Index,
    ms: Type.Number({ minimum: 0 }),
    ok: Type.Literal(false),
    error: WorkerFailure,
  }),
]);
export type WorkerOutcome = Static<typeof WorkerOutcome>;

/** A batch of finished tasks; also grants `credit` new slots (usually the batch's size). */
export const WorkerOutcomes = Type.Object({
  type: Type.Literal('outcomes'),
  credit: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  items: Type.Array(WorkerOutcome),
});

/** Hands leased tasks back unrun (page hidden, paused, or closing) so they are re-dispatched now. */
export const WorkerRelease = Type.Object({
  type: Type.Literal('release'),
  tasks: Type.Array(Type.Object({ jobId: JobId, index: Index })),
});

export const WorkerToServer = Type.Union([
  WorkerHello,
  WorkerCredit,
  WorkerOutcomes,
  WorkerRelease,
]);
export type WorkerToServer = Static<typeof WorkerToServer>;

// ---- server → worker ------------------------------------------------------------------

export const ServerWelcome = Type.Object({
  type: Type.Literal('welcome'),
  protocol: Type.Integer(),
  workerId: Type.String(),
});

/** Everything a worker needs to run a job's tasks; sent once per job per connection. */
export const ServerJob = Type.Object({
  type: Type.Literal('job'),
  jobId: JobId,
  /** JavaScript source defining `Run(input, args)`. */
  program: Type.String(),
  args: Type.Unknown(),
  timeoutMs: Type.Integer({ minimum: 1 }),
});

export const ServerTasks = Type.Object({
  type: Type.Literal('tasks'),
  jobId: JobId,
  items: Type.Array(Type.Object({ index: Index, input: Type.Unknown() })),
});

/** The job was cancelled or deleted: drop its queued tasks and forget its program. */
export const ServerCancel = Type.Object({
  type: Type.Literal('cancel'),
  jobId: JobId,
});

export const ServerToWorker = Type.Union([ServerWelcome, ServerJob, ServerTasks, ServerCancel]);
export type ServerToWorker = Static<typeof ServerToWorker>;

/** Decodes and validates a frame from a worker, text or binary. Throws TG_ERR_PROTOCOL. */
export const decodeWorkerToServer = createFrameDecoder(WorkerToServer, 'worker frame');
/** Decodes and validates a frame from the server, text or binary. Throws TG_ERR_PROTOCOL. */
export const decodeServerToWorker = createFrameDecoder(ServerToWorker, 'server frame');

/** WebSocket close codes the server uses on `/ws/worker` (4000–4999 are application codes). */
export const WorkerCloseCode = {
  /** A frame was malformed or unknown; the reason names the problem. */
  PROTOCOL_ERROR: 4000,
  /** The worker speaks another PROTOCOL_VERSION: reload the page. */
  VERSION_MISMATCH: 4001,
  /** No heartbeat answer in time. */
  TIMEOUT: 4002,
  /** The server is shutting down; reconnect later. */
  GOING_AWAY: 1001,
} as const;

/** Worker endpoint path on the server. */
export const WORKER_SOCKET_PATH = '/ws/worker';

/**
 * The worker page's Content-Security-Policy, sent with its HTML by the server (and by Vite's
 * dev server). Job threads are Web Workers started from `data:` URLs: they run with an opaque
 * origin and inherit this policy. `connect-src 'self'` keeps job code off every other host, and
 * the server refuses whatever comes from an opaque origin (`Origin: null`), so job code gets
 * nothing there either. `'unsafe-eval'` lets a thread compile the job's program;
 * `script-src 'self'` limits `importScripts` to the server's public files. `dev` adds what Vite's
 * dev server needs (its inline scripts and styles), never any network.
 */
export function workerPageCsp(dev = false): string {
  const inline = dev ? " 'unsafe-inline'" : '';
  return [
    "default-src 'self'",
    `script-src 'self' 'unsafe-eval'${inline}`,
    `style-src 'self'${inline}`,
    "worker-src 'self' data:",
    "connect-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

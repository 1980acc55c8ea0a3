/**
 * Worker ↔ server messages on the raw WebSocket at `/ws/worker`. Text frames of JSON, one
 * message per frame, tasks and outcomes always in batches.
 *
 * Flow control is credit-based: the worker grants slots (`hello.credit`, `outcomes.credit`,
 * `credit`), and the server never has more tasks outstanding on a connection than it was
 * granted. A job's program and args travel once per connection (`job`), then only inputs.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_BYTES_TAGS, hasBytes } from './binary-frame.js';
import { checkTextForm, jsonByteLength, toTextForm } from './bytes.js';
import { createFrameDecoder } from './codec.js';
import { MAX_DEPTH, MAX_VALUE_DEPTH, checkDepth } from './limits.js';
import {
  REPORT_LIMITS,
  ReportSeries,
  ServerLimit,
  ServerMessages,
  WorkerReport,
  WorkerSample,
} from './task-reports.js';
import { ErrorCode, TabgridError } from './errors.js';
import { JobPublic, JobRequirements, OperatorInfo, WorkerCapabilities } from './volunteer.js';

/**
 * What one worker connection may send: every number, count and string length a worker frame
 * carries is bounded here, in the schemas below, so the server refuses a frame (closing the
 * socket with 4000 and the limit's name) before doing any work a lie could inflate. The README's
 * threat model cites these; the server's worker socket applies the byte limits.
 */
export const WORKER_LIMITS = {
  /** Largest frame, in bytes: an outcomes batch with big results; larger closes the socket. */
  maxFrameBytes: 16 * 1024 * 1024,
  /** Largest frame before `hello` is accepted: a hello is ~200 bytes. */
  maxPreHelloFrameBytes: 16 * 1024,
  /** Most threads a worker may announce in `hello` (a 256-thread machine). */
  maxThreads: 256,
  /**
   * Most slots one `hello`, `credit` or `outcomes` frame may grant, and most a worker should
   * have outstanding in all: the worker page never asks for more.
   */
  maxCredit: 65_536,
  /** Most outcomes in one frame, and most tasks in one `release` (everything a worker holds). */
  maxItems: 65_536,
  /** Largest `ms` of one outcome: twice the longest job timeout (24 h), for timer slack. */
  maxTaskMs: 2 * 86_400_000,
  /** Longest error name, message and stack of a failed outcome, in UTF-16 code units. */
  maxErrorNameLength: 200,
  maxErrorMessageLength: 64 * 1024,
  maxErrorStackLength: 64 * 1024,
  maxUserAgentLength: 1_000,
  /** Longest `detail` of a `fault` report. */
  maxFaultDetailLength: 500,
  /** Most levels one result may nest (./limits.ts); a frame adds 3 around it. */
  maxValueDepth: MAX_VALUE_DEPTH,
  /** Most typed arrays in one binary frame (./binary-frame.ts). */
  maxBytesTags: MAX_BYTES_TAGS,
  /** The task model's frames (`report`, `sample`, series in outcomes): ./task-reports.ts. */
  ...REPORT_LIMITS,
} as const;

/** Worker frames: a result sits 3 levels in (`{ items: [ { value } ] }`). */
const WORKER_FRAME_DEPTH = MAX_VALUE_DEPTH + 3;

const JobId = Type.String({ minLength: 1, maxLength: 64 });
const Index = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Slots = Type.Integer({ minimum: 0, maximum: WORKER_LIMITS.maxCredit });
const TaskMs = Type.Number({ minimum: 0, maximum: WORKER_LIMITS.maxTaskMs });

// ---- worker → server ------------------------------------------------------------------

/** First frame of every connection. */
export const WorkerHello = Type.Object({
  type: Type.Literal('hello'),
  protocol: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }),
  threads: Type.Integer({ minimum: 1, maximum: WORKER_LIMITS.maxThreads }),
  userAgent: Type.String({ maxLength: WORKER_LIMITS.maxUserAgentLength }),
  /** Initial slots granted to the server. */
  credit: Slots,
  /** What the tab offers besides threads (issue 16): jobs' `requirements` are matched to it. */
  capabilities: Type.Optional(WorkerCapabilities),
});

/** Grants `slots` more tasks to the server. */
export const WorkerCredit = Type.Object({
  type: Type.Literal('credit'),
  slots: Slots,
});

export const WorkerFailure = Type.Object({
  name: Type.String({ maxLength: WORKER_LIMITS.maxErrorNameLength }),
  message: Type.String({ maxLength: WORKER_LIMITS.maxErrorMessageLength }),
  stack: Type.String({ maxLength: WORKER_LIMITS.maxErrorStackLength }),
  /** True when the thread was terminated because `Run` exceeded the job's timeoutMs. */
  timedOut: Type.Optional(Type.Boolean()),
  /**
   * `setup`: the task never ran because `Setup` threw or timed out on this thread (then
   * `timedOut` says which); the error is Setup's. The task goes back to the queue.
   */
  phase: Type.Optional(Type.Literal('setup')),
});
export type WorkerFailure = Static<typeof WorkerFailure>;

/** What the task collected (`tabgrid.collect`), by label (unique: the server checks). */
const OutcomeSeries = Type.Array(ReportSeries, { maxItems: WORKER_LIMITS.maxSeriesPerItem });

export const WorkerOutcome = Type.Union([
  Type.Object({
    jobId: JobId,
    index: Index,
    /** Compute time of this `Run` call in ms. */
    ms: TaskMs,
    ok: Type.Literal(true),
    value: Type.Unknown(),
    series: Type.Optional(OutcomeSeries),
  }),
  Type.Object({
    jobId: JobId,
    index: Index,
    ms: TaskMs,
    ok: Type.Literal(false),
    error: WorkerFailure,
    series: Type.Optional(OutcomeSeries),
  }),
]);
export type WorkerOutcome = Static<typeof WorkerOutcome>;

/** A batch of finished tasks; also grants `credit` new slots (usually the batch's size). */
export const WorkerOutcomes = Type.Object({
  type: Type.Literal('outcomes'),
  credit: Slots,
  items: Type.Array(WorkerOutcome, { maxItems: WORKER_LIMITS.maxItems }),
});

/** Hands leased tasks back unrun (page hidden, paused, or closing) so they are re-dispatched now. */
export const WorkerRelease = Type.Object({
  type: Type.Literal('release'),
  tasks: Type.Array(Type.Object({ jobId: JobId, index: Index }), {
    maxItems: WORKER_LIMITS.maxItems,
  }),
});

/**
 * The page caught a job's code tampering with its sandbox thread (a forged or malformed thread
 * message: see the worker page's outcome-check): the thread was replaced and its tasks failed
 * with a `SandboxViolation` error. Reported once per replaced thread, for the job it ran.
 */
export const WorkerFault = Type.Object({
  type: Type.Literal('fault'),
  jobId: JobId,
  kind: Type.Literal('sandbox-violation'),
  /** What was forged, in the page's words. */
  detail: Type.String({ maxLength: WORKER_LIMITS.maxFaultDetailLength }),
});

export const WorkerToServer = Type.Union([
  WorkerHello,
  WorkerCredit,
  WorkerOutcomes,
  WorkerRelease,
  WorkerFault,
  WorkerReport,
  WorkerSample,
]);
export type WorkerToServer = Static<typeof WorkerToServer>;
export {
  ReportSeries,
  ServerLimit,
  ServerMessages,
  TaskReport,
  WorkerReport,
  WorkerSample,
} from './task-reports.js';

// ---- server → worker ------------------------------------------------------------------

export const ServerWelcome = Type.Object({
  type: Type.Literal('welcome'),
  protocol: Type.Integer(),
  workerId: Type.String(),
  /** Who runs this grid, when the operator configured it (issue 16). */
  operator: Type.Optional(OperatorInfo),
});

/** Everything a worker needs to run a job's tasks; sent once per job per connection. */
export const ServerJob = Type.Object({
  type: Type.Literal('job'),
  jobId: JobId,
  /** JavaScript source defining `Run(input, args)`. */
  program: Type.String(),
  args: Type.Unknown(),
  timeoutMs: Type.Integer({ minimum: 1 }),
  /**
   * Longest one `Setup` call may take (ms). Absent: `timeoutMs` (a server before issue 13 never
   * sends it; protocol 2 servers always do).
   */
  setupTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
  /**
   * Present when the job stalls tasks that report no progress this long: the page then reports
   * `started` for each task it begins running (it costs nothing otherwise).
   */
  progressTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
  /** The job's public name, description and link (issue 16): the page shows them while it runs it. */
  public: Type.Optional(JobPublic),
  /**
   * The job's `requirements`, when it has some: `webgpu` lets its code call `tabgrid.gpu()`
   * (a job that did not require WebGPU is told to, even on a tab that has it).
   */
  requirements: Type.Optional(JobRequirements),
});

export const ServerTasks = Type.Object({
  type: Type.Literal('tasks'),
  jobId: JobId,
  items: Type.Array(Type.Object({ index: Index, input: Type.Unknown() })),
});

/**
 * The job retired (cancelled, deleted, or done): drop its queued tasks, run its threads'
 * Teardown, and forget its program.
 */
export const ServerCancel = Type.Object({
  type: Type.Literal('cancel'),
  jobId: JobId,
  /** Why; absent means cancelled or deleted (servers before issue 13). */
  reason: Type.Optional(
    Type.Union([Type.Literal('cancelled'), Type.Literal('deleted'), Type.Literal('done')]),
  ),
});

export const ServerToWorker = Type.Union([
  ServerWelcome,
  ServerJob,
  ServerTasks,
  ServerCancel,
  ServerMessages,
  ServerLimit,
]);
export type ServerToWorker = Static<typeof ServerToWorker>;

const decodeWorkerFrame = createFrameDecoder(WorkerToServer, 'worker frame', {
  maxDepth: WORKER_FRAME_DEPTH,
  // Results are the only free-form values of a worker frame: decodeWorkerToServer bounds each
  // one's depth, so busy text frames are not scanned character by character first.
  textDepth: 'caller',
  // A binary frame's results keep their bytes as views (socket form): the server stores them as
  // bytes (packed-value.ts). Collected values and event data are turned to the text form below.
  bytes: 'socket',
});
/**
 * Decodes and validates a frame from a worker, text or binary. Throws TG_ERR_PROTOCOL, also
 * for a result nested deeper than {@link MAX_VALUE_DEPTH} or holding a bytes tag that does not
 * decode (unknown kind, bad base64, a partial element).
 *
 * A text frame's values hold bytes in the text form. A binary frame's results hold them in the
 * socket form, `{ "$tabgrid.bytes": kind, "data": Uint8Array }` viewing the frame (no base64;
 * see ./packed-value.ts for how the server keeps them); its collected values and event data
 * come in the text form, like a text frame's.
 */
export function decodeWorkerToServer(data: unknown): WorkerToServer {
  const msg = decodeWorkerFrame(data);
  if (msg.type === 'report') return checkReport(msg, data);
  if (msg.type !== 'outcomes') return msg;
  let withSeries = false;
  for (const item of msg.items) {
    // Before anything walks it (a primitive result, the common case, costs a typeof).
    if (item.ok && typeof item.value === 'object' && item.value !== null) {
      checkDepth(item.value, MAX_VALUE_DEPTH, { what: 'worker frame (a result)' });
    }
    // The plain path's only added cost: one optional-property check per item.
    if (item.series !== undefined) {
      withSeries = true;
      for (const series of item.series) {
        // The values array adds a level around the values.
        checkDepth(series.values, SERIES_DEPTH, { what: 'worker frame (collected values)' });
      }
    }
  }
  // Results' bytes tags must decode (see checkTextForm): a text frame without any skips the walk.
  if (typeof data !== 'string' || hasBytes(data)) {
    // A binary frame's tags got their base64 from its attachments, in decodeBinaryFrame.
    const check = { base64Made: typeof data !== 'string' };
    const code = ErrorCode.PROTOCOL;
    for (const item of msg.items) {
      if (item.ok) checkTextForm(item.value, 'worker frame', code, check);
      if (withSeries && item.series !== undefined) {
        for (const series of item.series) {
          checkTextForm(series.values, 'worker frame', code, check);
          if (check.base64Made) series.values = toTextForm(series.values) as unknown[];
        }
      }
    }
  }
  return msg;
}

const SERIES_DEPTH = WORKER_LIMITS.maxDataDepth + 1;

/** Event data: depth first (one iterative walk), then its size, counted no further than the cap. */
function checkReport(msg: WorkerReport, data: unknown): WorkerReport {
  const binary = typeof data !== 'string' || hasBytes(data);
  for (const item of msg.items) {
    if (item.events === undefined) continue;
    for (const event of item.events) {
      if (typeof event.data !== 'object' || event.data === null) {
        if (typeof event.data === 'string') checkEventSize(event.data);
        continue;
      }
      checkDepth(event.data, WORKER_LIMITS.maxDataDepth, { what: 'worker frame (event data)' });
      checkEventSize(event.data);
      if (binary) {
        checkTextForm(event.data, 'worker frame');
        if (typeof data !== 'string') event.data = toTextForm(event.data);
      }
    }
  }
  return msg;
}

function checkEventSize(value: unknown): void {
  const max = WORKER_LIMITS.maxEventDataBytes;
  if (jsonByteLength(value, max) > max) {
    throw new TabgridError(
      ErrorCode.PROTOCOL,
      `Invalid worker frame (event data): larger than ${max} bytes of JSON (the limit).`,
    );
  }
}
/**
 * Decodes and validates a frame from the server, text or binary. Throws TG_ERR_PROTOCOL. Its
 * depth bound only guards the page's stack: it is looser than what the server accepts, so no
 * value the server took in can make a frame its workers refuse.
 */
export const decodeServerToWorker = createFrameDecoder(ServerToWorker, 'server frame', {
  maxDepth: 2 * MAX_DEPTH,
});

/**
 * {@link decodeServerToWorker} for the worker page: a binary frame's typed arrays come out in
 * the socket form (`{ "$tabgrid.bytes": kind, data: <bytes> }`), never as base64 (issue 18).
 */
export const decodeServerToWorkerBytes = createFrameDecoder(ServerToWorker, 'server frame', {
  maxDepth: 2 * MAX_DEPTH,
  bytes: 'socket',
});

/** WebSocket close codes the server uses on `/ws/worker` (4000–4999 are application codes). */
export const WorkerCloseCode = {
  /** A frame was malformed or unknown; the reason names the problem. */
  PROTOCOL_ERROR: 4000,
  /** The worker speaks another PROTOCOL_VERSION: reload the page. */
  VERSION_MISMATCH: 4001,
  /** No heartbeat answer in time. */
  TIMEOUT: 4002,
  /** This address already has as many worker sockets open as the server allows. */
  TOO_MANY_SOCKETS: 4003,
  /** A frame was larger than {@link WORKER_LIMITS} allow (before `hello`, or at all). */
  FRAME_TOO_LARGE: 1009,
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

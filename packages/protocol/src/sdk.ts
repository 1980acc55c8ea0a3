/**
 * SDK (and dashboard) ↔ server events on socket.io at `/socket.io/`. The token travels in
 * the handshake: `io(url, { auth: { token } })`.
 *
 * Requests are client→server events with an acknowledgement callback that receives an
 * {@link Ack}. Outcome streams are server→client `job:outcomes` pushes that the client
 * acknowledges when it has room for more (backpressure); every stream resumes from the
 * consumer's last `seq`, so nothing is lost or repeated across reconnects.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { createDecoder, type Decoder } from './codec.js';
import { ReceivedErrorDetail, type ReceivedErrorBody } from './errors.js';
import { DashboardHistory, DashboardSubscribe, type DashboardStats } from './dashboard.js';
import { CreateJobRequest, JobInfo, LIMITS, JobState, Outcome, OutcomeKind } from './jobs.js';
import { FeedName, WorkerMonitor, type FeedPush } from './feeds.js';
import { Label, TASK_LIMITS } from './task-reports.js';

const JobId = Type.String({ minLength: 1, maxLength: 64 });
const LIMITS_NAME = LIMITS.maxNameLength;
const JobRef = Type.Object({ jobId: JobId });

/** Either the answer's data or an error body. */
export type Ack<T> = { ok: true; data: T } | ({ ok: false } & ReceivedErrorBody);

/** Payload schemas of client → server requests, keyed by event name. */
export const SdkRequests = {
  'job:create': CreateJobRequest,
  'job:get': JobRef,
  'job:submit': Type.Object({
    jobId: JobId,
    /** Client-chosen id of this batch; a retried batch with the same id is not added twice. */
    batchId: Type.String({ minLength: 1, maxLength: 100 }),
    tasks: Type.Array(Type.Unknown(), { maxItems: 10_000 }),
  }),
  'job:close': JobRef,
  'job:cancel': JobRef,
  /** Dispatch of a paused job (JobInfo.paused) starts again. */
  'job:resume': JobRef,
  'job:delete': JobRef,
  'jobs:list': Type.Object({}),
  'jobs:delete': Type.Object({}),
  'job:subscribe': Type.Object({
    jobId: JobId,
    /** Client-chosen id; pushes for this stream carry it. */
    subscriptionId: Type.String({ minLength: 1, maxLength: 100 }),
    kind: OutcomeKind,
    /** Deliver outcomes with `seq > from` (0 for everything). */
    from: Type.Integer({ minimum: 0 }),
    /** Give each outcome its `provenance` (worker, attempt, times, program hash). Default false. */
    provenance: Type.Optional(Type.Boolean()),
  }),
  'job:unsubscribe': Type.Object({ subscriptionId: Type.String({ minLength: 1, maxLength: 100 }) }),
  /**
   * A feed of the job besides its outcomes: `job:feed` pushes carry it, `job:end` ends it, and
   * `job:unsubscribe` stops it (subscriptions count with the outcome ones per socket).
   */
  'job:follow': Type.Object({
    jobId: JobId,
    subscriptionId: Type.String({ minLength: 1, maxLength: 100 }),
    feed: FeedName,
    /** The series' label (feed `series` only). */
    label: Type.Optional(Label),
    /** Deliver items with `seq > from` (series: outcome seq; progress: ignored, a snapshot). */
    from: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  }),
  /** A message to every thread of the job (`tabgrid.listen` / `tabgrid.next`). */
  'job:tell': Type.Object({
    jobId: JobId,
    /** Client-chosen id: a resent message with the same id is stored once (same `seq`). */
    messageId: Type.String({ minLength: 1, maxLength: 100 }),
    data: Type.Unknown(),
  }),
  'job:series-labels': JobRef,
  /**
   * One task as it was submitted (settled or not) with the job's program and args: what a
   * replay on the submitter's machine needs (`replayTask`, `tabgrid replay`).
   */
  'job:task': Type.Object({
    jobId: JobId,
    index: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  }),
  /** The caller's newest job of that name, or null. */
  'jobs:latest': Type.Object({ name: Type.String({ maxLength: LIMITS_NAME }) }),
  'workers:list': Type.Object({}),
  'note:add': Type.Object({ text: Type.String({ maxLength: TASK_LIMITS.maxNoteLength }) }),
  /** Starts (or retargets) this connection's `dashboard:stats` feed. */
  'dashboard:subscribe': DashboardSubscribe,
  'dashboard:unsubscribe': Type.Object({}),
} as const satisfies Record<string, TSchema>;

const Unsubscribed = Type.Object({ unsubscribed: Type.Literal(true) });

/** Schemas of the `data` of each request's acknowledgement, keyed by event name. */
export const SdkResponseSchemas = {
  'job:create': JobInfo,
  'job:get': JobInfo,
  'job:submit': Type.Object({
    /** The job index of the batch's first task (a retried batch gets its first answer again). */
    firstIndex: Type.Integer({ minimum: 0 }),
    count: Type.Integer({ minimum: 0 }),
  }),
  'job:close': JobInfo,
  'job:cancel': JobInfo,
  'job:resume': JobInfo,
  'job:delete': Type.Object({ deleted: Type.Literal(true) }),
  'jobs:list': Type.Array(JobInfo),
  'jobs:delete': Type.Object({ deleted: Type.Integer({ minimum: 0 }) }),
  'job:subscribe': Type.Object({ subscribed: Type.Literal(true) }),
  'job:unsubscribe': Unsubscribed,
  'job:follow': Type.Object({ subscribed: Type.Literal(true) }),
  'job:tell': Type.Object({ seq: Type.Integer({ minimum: 1 }) }),
  'job:series-labels': Type.Array(Type.String(), { maxItems: 10_000 }),
  /** `input` and `args` in the socket form (typed arrays as binary attachments). */
  'job:task': Type.Object({
    index: Type.Integer({ minimum: 0 }),
    input: Type.Unknown(),
    program: Type.String({ maxLength: LIMITS.maxProgramBytes }),
    args: Type.Unknown(),
  }),
  'jobs:latest': Type.Union([JobInfo, Type.Null()]),
  'workers:list': Type.Array(WorkerMonitor),
  'note:add': Type.Object({ at: Type.Number() }),
  'dashboard:subscribe': DashboardHistory,
  'dashboard:unsubscribe': Unsubscribed,
} as const satisfies Record<keyof typeof SdkRequests, TSchema>;

/** The `data` of each request's acknowledgement. */
export type SdkResponses = {
  [E in keyof typeof SdkResponseSchemas]: Static<(typeof SdkResponseSchemas)[E]>;
};

/** The schema of an acknowledgement whose `data` is `data`: see {@link Ack}. */
export function AckSchema<T extends TSchema>(data: T) {
  return Type.Union([
    Type.Object({ ok: Type.Literal(true), data }),
    Type.Object({ ok: Type.Literal(false), error: ReceivedErrorDetail }),
  ]);
}

export type SdkRequestName = keyof typeof SdkRequests;
export type SdkRequest<E extends SdkRequestName> = Static<(typeof SdkRequests)[E]>;

/** socket.io typed event map for client → server. */
export type ClientToServerEvents = {
  [E in SdkRequestName]: (
    payload: SdkRequest<E>,
    ack: (answer: Ack<SdkResponses[E]>) => void,
  ) => void;
};

export const OutcomesPush = Type.Object({
  subscriptionId: Type.String(),
  jobId: JobId,
  items: Type.Array(Outcome),
});
export type OutcomesPush = Static<typeof OutcomesPush>;

export const StreamEnd = Type.Object({
  subscriptionId: Type.String(),
  jobId: JobId,
  /**
   * `done` when every task settled, `cancelled` (after each unsettled task's `cancelled` error),
   * `deleted`, or `error` when the server could not deliver the rest (`message` says why; the
   * SDK throws it). With `cancelled`, `message` says why when the server stopped the job itself
   * (`maxFailures`: JobInfo.cancelReason).
   */
  reason: Type.Union([JobState, Type.Literal('deleted'), Type.Literal('error')]),
  message: Type.Optional(Type.String()),
});
export type StreamEnd = Static<typeof StreamEnd>;

/** socket.io typed event map for server → client. */
export type ServerToClientEvents = {
  /** A batch of settled outcomes; call `ack()` when ready for the next batch. */
  'job:outcomes': (push: OutcomesPush, ack: () => void) => void;
  /** A batch of a `job:follow` feed's items (./feeds.ts); `ack()` when ready for more. */
  'job:feed': (push: FeedPush, ack: () => void) => void;
  /** The stream has delivered everything it ever will. */
  'job:end': (end: StreamEnd) => void;
  /** Aggregated live statistics, about once a second, while subscribed. */
  'dashboard:stats': (stats: DashboardStats) => void;
};

/** Validators for every client → server request, keyed by event name. */
export const decodeSdkRequest: { [E in SdkRequestName]: Decoder<(typeof SdkRequests)[E]> } =
  Object.fromEntries(
    Object.entries(SdkRequests).map(([name, schema]) => [
      name,
      createDecoder(schema, `${name} request`),
    ]),
  ) as never;

/**
 * Validators of every acknowledgement, keyed by the request's event name.
 *
 * @example
 * const answer = decodeSdkAck['jobs:delete'](raw); // throws TG_ERR_PROTOCOL if malformed
 * if (answer.ok) console.log(answer.data.deleted); else throw errorFromBody(answer);
 */
export const decodeSdkAck: { [E in SdkRequestName]: (value: unknown) => Ack<SdkResponses[E]> } =
  Object.fromEntries(
    Object.entries(SdkResponseSchemas).map(([name, schema]) => [
      name,
      createDecoder(AckSchema(schema), `${name} answer`),
    ]),
  ) as never;

export const decodeOutcomesPush = createDecoder(OutcomesPush, 'job:outcomes push');
export const decodeStreamEnd = createDecoder(StreamEnd, 'job:end push');
export const decodeJobInfo = createDecoder(JobInfo, 'job');
export { JobInfo };

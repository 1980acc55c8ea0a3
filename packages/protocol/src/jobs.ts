import { Type, type Static } from '@sinclair/typebox';
import { JobPublic, JobRequirements } from './volunteer.js';

export {
  JobPublic,
  JobRequirements,
  OperatorInfo,
  VOLUNTEER_LIMITS,
  WorkerCapabilities,
  unmetRequirement,
  type WorkerOffer,
} from './volunteer.js';

/** Limits and defaults that server and SDK agree on. */
export const LIMITS = {
  maxProgramBytes: 1_000_000,
  maxNameLength: 200,
  /** Largest number of tasks in one submission batch (SDK socket path). */
  maxBatchTasks: 10_000,
  /** Largest `maxFailures` a job may set. */
  maxFailures: 10_000,
} as const;

export const JOB_DEFAULTS = {
  timeoutMs: 60_000,
  maxAttempts: 3,
  retryErrors: 0,
  redundancy: 1,
  priority: 0,
} as const;

/** `open` → `closed` (no more tasks) → `done`, or `cancelled` at any point before done. */
export const JobState = Type.Union([
  Type.Literal('open'),
  Type.Literal('closed'),
  Type.Literal('done'),
  Type.Literal('cancelled'),
]);
export type JobState = Static<typeof JobState>;

/** Tunables of a job; every field is optional and has a default in {@link JOB_DEFAULTS}. */
export const JobOptions = Type.Object({
  /** Longest a single `Run` may take before its thread is terminated (ms). */
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
  /** How many times a task may be lost or time out before it settles as an error. */
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  /**
   * How many times a task whose `Run` threw is run again (with exponential backoff and jitter)
   * before its error is final. Default 0: a thrown error settles the task at once.
   */
  retryErrors: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  /**
   * Run every task on this many distinct workers and accept a result only when they all agree
   * (canonical JSON equality), BOINC-style. Default 1.
   */
  redundancy: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
  /** With redundancy, the most workers a task may run on before it settles as `validation`. Default redundancy + 2. */
  maxReplicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  /** Higher runs first; equal priorities share the grid round-robin. */
  priority: Type.Optional(Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 })),
  /**
   * Longest one `Setup(args)` call may take on a thread (ms). Default: `timeoutMs`. A Setup that
   * throws or times out sends that thread's tasks back to the queue.
   */
  setupTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
  /**
   * A running task that calls no `tabgrid.progress()` for this long is stalled: its attempt is
   * lost (`ENOPROGRESS`) and it runs again elsewhere. Default: off.
   */
  progressTimeoutMs: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 86_400_000 })),
  /**
   * Stops the job early when its first `maxFailures` settled tasks all failed with the same
   * error (same type, and same message up to its numbers): the job is cancelled, and
   * `JobInfo.cancelReason` (and the end of its streams) says why. Default: off.
   */
  maxFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxFailures })),
  // Issue 16.
  /** The job's name, description and link as volunteers' pages show them while they run it. */
  public: Type.Optional(JobPublic),
  /** What a tab must offer to get the job's tasks (WebGPU, threads, memory). */
  requirements: Type.Optional(JobRequirements),
});
export type JobOptions = Static<typeof JobOptions>;

/**
 * Body of a job creation (REST `POST /api/jobs` and SDK `job:create`).
 *
 * @example
 * { "program": "function Run(d) { return d * 2 }", "name": "double", "timeoutMs": 5000 }
 */
export const CreateJobRequest = Type.Composite([
  Type.Object({
    /** JavaScript source that defines a function `Run(input, args)`. */
    program: Type.String({ minLength: 1, maxLength: LIMITS.maxProgramBytes }),
    name: Type.Optional(Type.String({ maxLength: LIMITS.maxNameLength })),
    /** JSON value handed to every `Run` call as its second argument; sent once per job. */
    args: Type.Optional(Type.Unknown()),
    /** Free-form label to group jobs by (CrowdProcess compatible). */
    group: Type.Optional(
      Type.Union([Type.String({ maxLength: LIMITS.maxNameLength }), Type.Null()]),
    ),
    /** CrowdProcess's name for priority; used when `priority` is absent. */
    bid: Type.Optional(Type.Number()),
  }),
  JobOptions,
]);
export type CreateJobRequest = Static<typeof CreateJobRequest>;

/** A job as every reader sees it (REST and SDK). Times are ISO 8601. */
export const JobInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  group: Type.Union([Type.String(), Type.Null()]),
  state: JobState,
  total: Type.Integer(),
  finished: Type.Integer(),
  failed: Type.Integer(),
  inFlight: Type.Integer(),
  queued: Type.Integer(),
  computeMs: Type.Number(),
  created: Type.String(),
  modified: Type.String(),
  lastResult: Type.Union([Type.String(), Type.Null()]),
  timeoutMs: Type.Integer(),
  maxAttempts: Type.Integer(),
  retryErrors: Type.Integer(),
  redundancy: Type.Integer(),
  maxReplicas: Type.Integer(),
  /** Tasks whose replicas disagreed at least once (redundancy > 1). */
  disagreements: Type.Integer(),
  priority: Type.Integer(),
  /**
   * While dispatch of the job is paused, why: its tasks kept crashing (or losing) the tabs that
   * ran them. Nothing is dispatched until the owner resumes (`POST /api/jobs/:id/resume`,
   * `job.resume()`) or cancels it. Null while it runs.
   */
  paused: Type.Union([Type.String(), Type.Null()]),
  // The task model (issue 13). Optional in the schema only so that readers of older servers
  // still decode; this server always sends every one of them.
  /** Bound of one `Setup` call (ms): the job's option, else its `timeoutMs`. */
  setupTimeoutMs: Type.Optional(Type.Integer()),
  /** A task silent this long (no `tabgrid.progress()`) is stalled; null: off. */
  progressTimeoutMs: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  /** Setup calls finished (ok or not) over all threads, and their time. */
  setups: Type.Optional(
    Type.Object({ count: Type.Integer(), totalMs: Type.Number(), maxMs: Type.Number() }),
  ),
  /** Console lines stored, and dropped over the caps (per task in threads, per job here). */
  logs: Type.Optional(Type.Object({ lines: Type.Integer(), dropped: Type.Integer() })),
  /** Events stored, and dropped over the caps. */
  events: Type.Optional(Type.Object({ count: Type.Integer(), dropped: Type.Integer() })),
  /** Bytes of collected series stored, and values dropped over the caps. */
  series: Type.Optional(Type.Object({ bytes: Type.Integer(), dropped: Type.Integer() })),
  /** Messages sent to the job with `job.tell()`. */
  messages: Type.Optional(Type.Integer()),
  /** CPU time the job's tasks used on workers, and the largest JS heap of a tab running them. */
  usage: Type.Optional(
    Type.Object({
      cpuMs: Type.Number(),
      peakHeapBytes: Type.Union([Type.Integer(), Type.Null()]),
    }),
  ),
  // Issue 14. Optional for the same reason; this server always sends them.
  /** The job's `maxFailures` option; null: off. */
  maxFailures: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  /**
   * Why the server cancelled the job itself (e.g. `maxFailures`: "stopped after 5 tasks failed
   * with the same error: TypeError: x is undefined"); null for a job cancelled by its owner or
   * not cancelled.
   */
  cancelReason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** SHA-256 (hex) of the job's program text, as outcomes' provenance names it. */
  programHash: Type.Optional(Type.String()),
  // Issue 16. Optional for the same reason; this server always sends them.
  /** The job's `public` option; null: none. */
  public: Type.Optional(Type.Union([JobPublic, Type.Null()])),
  /** The job's `requirements` option; null: any tab. */
  requirements: Type.Optional(Type.Union([JobRequirements, Type.Null()])),
  /**
   * While the job has tasks waiting and no connected worker meets its requirements, why
   * ("no connected worker offers WebGPU (3 connected)"); null otherwise.
   */
  unservable: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type JobInfo = Static<typeof JobInfo>;

/** Why a task settled as an error. */
export const TaskErrorType = Type.Union([
  Type.Literal('program'),
  Type.Literal('timeout'),
  Type.Literal('lost'),
  Type.Literal('validation'),
  Type.Literal('cancelled'),
  /** Every try failed in the program's `Setup` (threw or timed out): Setup's error. */
  Type.Literal('setup'),
]);
export type TaskErrorType = Static<typeof TaskErrorType>;

export const TaskFailure = Type.Object({
  name: Type.String(),
  message: Type.String(),
  stack: Type.String(),
  type: TaskErrorType,
});
export type TaskFailure = Static<typeof TaskFailure>;

/** Longest a provenance's `queuedMs` may be: ten years. */
const MAX_QUEUED_MS = 10 * 366 * 86_400_000;

/**
 * Where and how a task settled, on outcomes read with `provenance` (SDK option, REST
 * `?provenance`). `workerId` is the worker connection (its `welcome` id) that held the settling
 * attempt: it answered it, or timed out or lost it (null when none did: a task cancelled before
 * it ran, a replica quorum's loss); `attempt` that attempt's number (1 the first;
 * tries lost, timed out or retried count; 0 for a task settled without ever being tried);
 * `runMs` the run time that worker reported (null when none was); `queuedMs` how long the task
 * waited from its submission to that attempt's dispatch (null when unknown: not dispatched, or
 * submitted before the server recorded submission times); `programHash` the SHA-256 (hex) of
 * the job's program text.
 *
 * @example
 * { "workerId": "3f1c…", "attempt": 1, "runMs": 12.5, "queuedMs": 40, "programHash": "9b71d2…" }
 */
export const Provenance = Type.Object({
  workerId: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]),
  attempt: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  runMs: Type.Union([Type.Number({ minimum: 0, maximum: 2 * 86_400_000 }), Type.Null()]),
  queuedMs: Type.Union([Type.Number({ minimum: 0, maximum: MAX_QUEUED_MS }), Type.Null()]),
  programHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
});
export type Provenance = Static<typeof Provenance>;

/**
 * A settled task. Every (job, index) settles exactly once; `seq` is the job's monotonic
 * cursor, from which a consumer resumes after a reconnect. `provenance` only on streams that
 * asked for it.
 */
export const Outcome = Type.Union([
  Type.Object({
    seq: Type.Integer({ minimum: 1 }),
    index: Type.Integer({ minimum: 0 }),
    ok: Type.Literal(true),
    value: Type.Unknown(),
    provenance: Type.Optional(Provenance),
  }),
  Type.Object({
    seq: Type.Integer({ minimum: 1 }),
    index: Type.Integer({ minimum: 0 }),
    ok: Type.Literal(false),
    error: TaskFailure,
    provenance: Type.Optional(Provenance),
  }),
]);
export type Outcome = Static<typeof Outcome>;

/** Which settled outcomes a stream carries. */
export const OutcomeKind = Type.Union([
  Type.Literal('all'),
  Type.Literal('results'),
  Type.Literal('errors'),
]);
export type OutcomeKind = Static<typeof OutcomeKind>;

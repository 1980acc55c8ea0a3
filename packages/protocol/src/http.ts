/**
 * The REST API's answers that are not jobs or keys themselves: the REST view of a job, the
 * upload count, the lines of the results and errors streams, the health check, and the error
 * body. The server declares its routes with these schemas (the OpenAPI document is generated
 * from them); the SDK and the dashboard decode what they receive with the decoders below.
 */
import { Type, type Static } from '@sinclair/typebox';
import { createDecoder } from './codec.js';
import { ErrorBody, ReceivedErrorBody } from './errors.js';
import { JobInfo, JobState, Provenance, TaskFailure } from './jobs.js';

export { ErrorBody };

/**
 * A job as REST shows it: {@link JobInfo} plus CrowdProcess's names for some of its fields, so
 * CrowdProcess clients read it unchanged.
 */
export const JobView = Type.Composite([
  JobInfo,
  Type.Object({
    status: Type.Union(JobState.anyOf, { description: 'CrowdProcess name of `state`.' }),
    bid: Type.Integer({ description: 'CrowdProcess name of `priority`.' }),
    browserHours: Type.Number({ description: '`computeMs` in hours.' }),
  }),
]);
export type JobView = Static<typeof JobView>;

/** The answer to `POST /api/jobs/:id/tasks`. */
export const UploadCount = Type.Object({
  count: Type.Integer({ minimum: 0, description: 'Tasks added.' }),
});
export type UploadCount = Static<typeof UploadCount>;

/** A line of `GET /api/jobs/:id/results?meta`. */
export const ResultWithMeta = Type.Object({
  index: Type.Integer({ minimum: 0, description: "The task's position in the job." }),
  value: Type.Unknown({ description: 'The value `Run` returned.' }),
  /** With `provenance`: where and how it settled. */
  provenance: Type.Optional(Provenance),
});
export type ResultWithMeta = Static<typeof ResultWithMeta>;

/** A line of `GET /api/jobs/:id/results`: the value `Run` returned, or (`?meta`) `{ index, value }`. */
export const ResultLine = Type.Unknown({
  description:
    'One line per successful task: the value `Run` returned, or with `meta` `{ index, value }` (ResultWithMeta), or with `provenance` `{ index, value, provenance }`.',
});
export type ResultLine = Static<typeof ResultLine>;

/** A line of `GET /api/jobs/:id/errors`: why a task settled as an error, and which task. */
export const ErrorLine = Type.Composite([
  TaskFailure,
  Type.Object({
    index: Type.Integer({ minimum: 0, description: "The task's position in the job." }),
    /** With `provenance`: where and how it settled. */
    provenance: Type.Optional(Provenance),
  }),
]);
export type ErrorLine = Static<typeof ErrorLine>;

const Count = (description: string) => Type.Integer({ minimum: 0, description });

/** `GET /healthz`: the server is up, with its delivery statistics. */
export const Health = Type.Object({
  ok: Type.Literal(true),
  workers: Count('Connected worker tabs.'),
  duplicates: Count('Second outcomes for already settled tasks (execution is at-least-once).'),
  dropped: Count('Outcomes for jobs cancelled, deleted or finished meanwhile.'),
  forged: Count('Outcomes and hand-backs from connections the task was not leased to.'),
  sandboxFaults: Count("Worker pages' reports of job code tampering with its sandbox."),
  excludedWorkers: Count('Worker identities that lost too many quorums and get no more tasks.'),
  eventLoopDelayMs: Type.Object(
    { p50: Type.Number(), p99: Type.Number(), max: Type.Number() },
    { description: "The event loop's delay since the last `?reset` (ms)." },
  ),
  rssMb: Type.Integer({ minimum: 0, description: 'Resident memory of the server process (MB).' }),
});
export type Health = Static<typeof Health>;

/** Decodes a received error body (any `TG_ERR_…` code: see ReceivedErrorBody). */
export const decodeErrorBody = createDecoder(ReceivedErrorBody, 'error body');
export const decodeJobView = createDecoder(JobView, 'job');
export const decodeUploadCount = createDecoder(UploadCount, 'upload count');
export const decodeResultWithMeta = createDecoder(ResultWithMeta, 'result line');
export const decodeErrorLine = createDecoder(ErrorLine, 'error line');
export const decodeHealth = createDecoder(Health, 'health answer');

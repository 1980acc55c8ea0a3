/**
 * The `schema` of every route under /api/jobs: request and answers, from the protocol's schemas.
 * The OpenAPI document is generated from these (openapi.ts); route-conformance.test.ts checks
 * every real answer against them.
 */
import { Type } from '@sinclair/typebox';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { ErrorLine, ResultLine } from '@tabgrid/protocol/http';
import { errorResponses } from './error-responses.js';
import { plainSchema, ref, routeOptions } from './shared-schemas.js';

const TRAILING_SLASH =
  'A trailing slash (`/api/jobs/`, as CrowdProcess clients send) and doubled slashes are accepted too.';

const jobParams = Type.Object({ id: Type.String({ description: "The job's id." }) });

const NO_CONTENT = { 204: { description: 'Done; no body.', type: 'null' } };
const oneJob = (description: string) => ({ 200: { description, ...ref('Job') } });

const VIEWER = { 403: 'A viewer key can read but not change anything.' } as const;
const NOT_FOUND = {
  404: [
    "No such job, or it is someone else's (whose existence is not revealed).",
    ErrorCode.JOB_NOT_FOUND,
  ],
} as const satisfies Record<number, [string, ErrorCode]>;

const INVALID_JOB: [string, ...ErrorCode[]] = [
  'The body is not JSON or nests too deep (`TG_ERR_INVALID_REQUEST`), is not a valid job (`TG_ERR_PROTOCOL`), or its program does not parse or define `Run` (`TG_ERR_INVALID_PROGRAM`).',
  ErrorCode.INVALID_REQUEST,
  ErrorCode.PROTOCOL,
  ErrorCode.INVALID_PROGRAM,
];

/** `POST /api/jobs/:id/close|cancel|resume`. */
function jobAction(operationId: string, summary: string, description: string) {
  return {
    operationId,
    tags: ['jobs'],
    summary,
    description,
    params: jobParams,
    response: {
      ...oneJob('The job.'),
      ...errorResponses({ ...VIEWER, ...NOT_FOUND }, { body: true }),
    },
  };
}

const outcomeQuery = (kind: 'results' | 'errors') =>
  Type.Object({
    stream: Type.Optional(
      Type.String({
        description:
          'Present (any value): stay open and send outcomes as they settle until the job is done (or cancelled, or deleted). Without `from` a live stream sends only what settles from now on; add `from=0` to get everything settled so far first.',
      }),
    ),
    from: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "Start after this seq (the job's monotonic outcome cursor) to resume. Default: 0 (everything), or with `stream` the current end.",
      }),
    ),
    provenance: Type.Optional(
      Type.String({
        description:
          kind === 'results'
            ? 'Present (any value): each line is `{ index, value, provenance }`: the worker connection that settled the task, the attempt, its run and queued times (ms) and the SHA-256 of the program (see Provenance). Without it the lines keep their CrowdProcess shape.'
            : 'Present (any value): each line also carries `provenance`: the worker connection that settled the task, the attempt, its run and queued times (ms) and the SHA-256 of the program (see Provenance).',
      }),
    ),
    ...(kind === 'results'
      ? {
          meta: Type.Optional(
            Type.String({
              description:
                'Present (any value): each line is `{ index, value }` (ResultWithMeta) instead of the value.',
            }),
          ),
        }
      : {}),
  });

/** `GET /api/jobs/:id/results|errors`: hijacked NDJSON answers, documented by their line. */
function outcomeStream(kind: 'results' | 'errors') {
  return {
    operationId: kind === 'results' ? 'readResults' : 'readErrors',
    tags: ['jobs'],
    summary: kind === 'results' ? 'Read the results' : 'Read the task errors',
    description:
      kind === 'results'
        ? 'Newline-delimited JSON of the tasks settled successfully: everything so far, or (`stream`) live until the job is done.'
        : 'Newline-delimited JSON of the tasks settled as errors (after their attempts and retries): everything so far, or (`stream`) live until the job is done.',
    params: jobParams,
    querystring: outcomeQuery(kind),
    response: {
      200: {
        description: `The ${kind}, one JSON value per line (the schema describes one line).`,
        content: {
          'application/x-ndjson': {
            schema: kind === 'results' ? plainSchema(ResultLine) : plainSchema(ErrorLine),
          },
        },
      },
      ...errorResponses({
        400: ['`from` is not a non-negative integer.', ErrorCode.INVALID_REQUEST],
        ...NOT_FOUND,
      }),
    },
  };
}

const JOB_ROUTE_SCHEMAS = {
  list: {
    operationId: 'listJobs',
    tags: ['jobs'],
    summary: 'List your jobs',
    description: `Admin keys (and viewers without an owner) see every job. With \`name\`, only the jobs of that name; with \`name\` and \`latest\`, the newest of them alone (404 if none), as \`tg.latestJob(name)\`. ${TRAILING_SLASH}`,
    querystring: Type.Object({
      name: Type.Optional(Type.String({ description: 'Only the jobs of this name.' })),
      latest: Type.Optional(
        Type.String({
          description:
            'Present (any value, e.g. `latest=1`), with `name`: answer the newest job of that name, not a list.',
        }),
      ),
    }),
    response: {
      200: {
        description: 'The jobs, oldest first; with `latest`, one job.',
        anyOf: [{ type: 'array', items: ref('Job') }, ref('Job')],
      },
      ...errorResponses({
        400: ['`latest` without `name`.', ErrorCode.INVALID_REQUEST],
        404: ['`latest`: you have no job of that name.', ErrorCode.JOB_NOT_FOUND],
      }),
    },
  },
  create: {
    operationId: 'createJob',
    tags: ['jobs'],
    summary: 'Create a job',
    description: `The body is read as JSON whatever its Content-Type; an empty body is \`{}\`. ${TRAILING_SLASH}`,
    body: ref('CreateJobRequest'),
    response: {
      201: {
        description: 'The new job (open: upload its tasks, then close it).',
        ...ref('Job'),
      },
      ...errorResponses({ 400: INVALID_JOB, ...VIEWER }, { body: true }),
    },
  },
  deleteAll: {
    operationId: 'deleteJobs',
    tags: ['jobs'],
    summary: 'Delete all the jobs your key owns',
    description: TRAILING_SLASH,
    response: { ...NO_CONTENT, ...errorResponses(VIEWER, { body: true }) },
  },
  get: {
    operationId: 'getJob',
    tags: ['jobs'],
    summary: 'Read a job',
    params: jobParams,
    response: { ...oneJob('The job.'), ...errorResponses(NOT_FOUND) },
  },
  delete: {
    operationId: 'deleteJob',
    tags: ['jobs'],
    summary: 'Delete a job with its tasks and outcomes',
    params: jobParams,
    response: { ...NO_CONTENT, ...errorResponses({ ...VIEWER, ...NOT_FOUND }, { body: true }) },
  },
  tasks: {
    operationId: 'uploadTasks',
    tags: ['jobs'],
    summary: 'Add tasks to an open job',
    description:
      'Newline-delimited JSON, one task (the `input` of one `Run` call) per line, read in constant memory whatever its size; blank lines are skipped. Any Content-Type other than `application/json` is read this way. With `Content-Type: application/json` the body is one JSON array of tasks instead (up to 16 MB). A malformed line stops the upload with a 400 whose message names the line; the tasks before it stay accepted.',
    params: jobParams,
    body: {
      content: {
        'application/x-ndjson': {
          schema: { type: 'string', description: 'One JSON task per line.' },
        },
        'application/json': {
          schema: { type: 'array', items: {}, description: 'The tasks.' },
        },
      },
    },
    response: {
      201: { description: 'How many tasks were added.', ...ref('UploadCount') },
      ...errorResponses(
        {
          400: [
            'A line is not valid JSON or nests too deep (the message names the line; the tasks before it were accepted), or a JSON body is not an array (`TG_ERR_INVALID_TASK`); a JSON body that is not JSON (`TG_ERR_INVALID_REQUEST`).',
            ErrorCode.INVALID_TASK,
            ErrorCode.INVALID_REQUEST,
          ],
          ...VIEWER,
          ...NOT_FOUND,
          409: [
            'The job is closed, done or cancelled: tasks can only be added to an open job.',
            ErrorCode.JOB_NOT_OPEN,
          ],
          429: [
            'This key (or the server) runs the most uploads it may at once: wait `Retry-After` seconds.',
            ErrorCode.RATE_LIMITED,
          ],
        },
        { body: true },
      ),
    },
  },
  close: jobAction(
    'closeJob',
    'Close a job: no more tasks',
    'The job is `done` once every task has settled. Closing twice is harmless.',
  ),
  cancel: jobAction(
    'cancelJob',
    'Cancel a job',
    'Stops handing out its tasks; every task not settled yet settles as a `cancelled` error (in the background, in pages), then its streams end. Outcomes settled so far stay readable. Harmless on a job that is already done or cancelled.',
  ),
  resume: jobAction(
    'resumeJob',
    'Resume a paused job',
    "The server pauses a job whose tasks keep crashing the tabs that run them, or whose code volunteers' pages catch tampering with their sandbox (`paused` in the job says why). Resuming dispatches its tasks again; harmless on a job that is not paused.",
  ),
  results: outcomeStream('results'),
  errors: outcomeStream('errors'),
};

/** Options (`{ schema }`) of each job route. */
export const JOB_ROUTES = routeOptions(JOB_ROUTE_SCHEMAS);

import type { FastifyInstance } from 'fastify';
import { ERROR_STATUS, ErrorCode } from '@tabgrid/protocol/errors';
import { CreateJobRequest, JobInfo, JobState, TaskFailure } from '@tabgrid/protocol/jobs';
import { ApiKeyInfo, CreateKeyRequest, CreatedKey, WhoAmI } from '@tabgrid/protocol/keys';
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';

/** Served without credentials (app.ts exempts exactly this route from the auth hook). */
export const OPENAPI_PATH = '/api/openapi.json';

type JsonSchema = Record<string, unknown>;
type Method = 'get' | 'post' | 'delete';

interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  /** `[]` for the routes that need no credentials; the document's default otherwise. */
  security?: Record<string, string[]>[];
  parameters?: JsonSchema[];
  requestBody?: JsonSchema;
  responses: Record<string, JsonSchema>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, Partial<Record<Method, Operation>>>;
  components: {
    securitySchemes: Record<string, JsonSchema>;
    schemas: Record<string, JsonSchema>;
    responses: Record<string, JsonSchema>;
    parameters: Record<string, JsonSchema>;
  };
}

/** A TypeBox schema as plain JSON Schema: the JSON round trip drops TypeBox's symbol keys. */
function jsonSchema(schema: object): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const responseRef = (name: ErrorResponse) => ({ $ref: `#/components/responses/${name}` });
const parameterRef = (name: string) => ({ $ref: `#/components/parameters/${name}` });
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

/** The error answers operations refer to, each with the codes it may carry. */
const ERROR_RESPONSES = {
  Unauthorized: {
    codes: [ErrorCode.UNAUTHORIZED],
    description: 'Missing or invalid credentials.',
  },
  Forbidden: {
    codes: [ErrorCode.FORBIDDEN],
    description: 'A viewer key tried to change something, or a non-admin key to manage keys.',
  },
  ViewerForbidden: {
    codes: [ErrorCode.FORBIDDEN],
    description: 'A viewer key can read but not change anything.',
  },
  JobNotFound: {
    codes: [ErrorCode.JOB_NOT_FOUND],
    description: "No such job, or it is someone else's (whose existence is not revealed).",
  },
  KeyNotFound: { codes: [ErrorCode.KEY_NOT_FOUND], description: 'No key with this id.' },
  InvalidJob: {
    codes: [ErrorCode.INVALID_REQUEST, ErrorCode.PROTOCOL, ErrorCode.INVALID_PROGRAM],
    description:
      'The body is not JSON (`TG_ERR_INVALID_REQUEST`), not a valid job (`TG_ERR_PROTOCOL`), or its program does not parse or define `Run` (`TG_ERR_INVALID_PROGRAM`).',
  },
  InvalidKey: {
    codes: [ErrorCode.INVALID_REQUEST, ErrorCode.PROTOCOL],
    description:
      'The body is not JSON or the name is taken (`TG_ERR_INVALID_REQUEST`), or it is not a valid key request (`TG_ERR_PROTOCOL`).',
  },
  InvalidTasks: {
    codes: [ErrorCode.INVALID_TASK],
    description:
      'A line is not valid JSON (the message names the line; the tasks before it were accepted), or a JSON body is not an array.',
  },
  InvalidCursor: {
    codes: [ErrorCode.INVALID_REQUEST],
    description: '`from` is not a non-negative integer.',
  },
  JobNotOpen: {
    codes: [ErrorCode.JOB_NOT_OPEN],
    description: 'The job is closed, done or cancelled: tasks can only be added to an open job.',
  },
} satisfies Record<string, { codes: ErrorCode[]; description: string }>;
type ErrorResponse = keyof typeof ERROR_RESPONSES;

/** Responses keyed by HTTP status; each error's status comes from the protocol's ERROR_STATUS. */
function responses(
  ok: Record<string, JsonSchema>,
  ...errors: ErrorResponse[]
): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = { ...ok };
  for (const name of errors) {
    const status = String(ERROR_STATUS[ERROR_RESPONSES[name].codes[0]!]);
    if (out[status]) throw new Error(`OpenAPI: two responses for status ${status}`);
    out[status] = responseRef(name);
  }
  return out;
}

const noContent = { '204': { description: 'Done; no body.' } };
const oneJob = (description: string) => ({
  description,
  content: json(schemaRef('Job')),
});

const idParameter = (what: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  description: `The ${what}'s id.`,
  schema: { type: 'string' },
});

/** GET /api/jobs/{id}/results and /errors. */
function outcomeStream(kind: 'results' | 'errors'): Operation {
  const line =
    kind === 'results'
      ? {
          description:
            'One line per successful task: the value `Run` returned, or with `meta` `{ index, value }`.',
          anyOf: [schemaRef('ResultWithMeta'), { description: 'The value `Run` returned.' }],
        }
      : schemaRef('TaskErrorLine');
  return {
    operationId: kind === 'results' ? 'readResults' : 'readErrors',
    tags: ['jobs'],
    summary: kind === 'results' ? 'Read the results' : 'Read the task errors',
    description:
      kind === 'results'
        ? 'Newline-delimited JSON of the tasks settled successfully: everything so far, or (`stream`) live until the job is done.'
        : 'Newline-delimited JSON of the tasks settled as errors (after their attempts and retries): everything so far, or (`stream`) live until the job is done.',
    parameters: [
      idParameter('job'),
      parameterRef('stream'),
      parameterRef('from'),
      ...(kind === 'results' ? [parameterRef('meta')] : []),
    ],
    responses: responses(
      {
        '200': {
          description: `The ${kind}, one JSON value per line (the schema describes one line).`,
          content: { 'application/x-ndjson': { schema: line } },
        },
      },
      'InvalidCursor',
      'Unauthorized',
      'JobNotFound',
    ),
  };
}

const TRAILING_SLASH =
  'A trailing slash (`/api/jobs/`, as CrowdProcess clients send) and doubled slashes are accepted too.';

const errorBody = {
  type: 'object',
  description: 'The body of every error answer.',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.values(ErrorCode) },
        message: { type: 'string', description: 'What went wrong and what to do about it.' },
      },
    },
  },
};

/** The OpenAPI 3.1 document of the REST API, built from the protocol's schemas. */
export const OPENAPI_DOCUMENT: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Tabgrid REST API',
    // The REST bodies are the wire protocol's schemas: their version is the protocol's.
    version: String(PROTOCOL_VERSION),
    description:
      "Browser tabs as a compute grid. Create a job with a JavaScript `Run(input, args)` program, upload its tasks, close it and read its results. A superset of CrowdProcess's API: job answers also carry CrowdProcess's field names. Keys have roles: `admin` (everything, including keys), `client` (its own jobs), `viewer` (reads what its owner may read; changes nothing: 403). Someone else's job is a 404. Every `GET` route also answers `HEAD`.",
  },
  tags: [
    { name: 'jobs', description: 'Jobs, their tasks and their outcomes.' },
    { name: 'keys', description: 'API keys (admin only) and whose credentials these are.' },
    { name: 'server', description: 'Health and this document; no credentials needed.' },
  ],
  security: [{ bearer: [] }, { token: [] }, { basic: [] }],
  paths: {
    '/api/jobs': {
      get: {
        operationId: 'listJobs',
        tags: ['jobs'],
        summary: 'List your jobs',
        description: `Admin keys (and viewers without an owner) see every job. ${TRAILING_SLASH}`,
        responses: responses(
          {
            '200': {
              description: 'The jobs, oldest first.',
              content: json({ type: 'array', items: schemaRef('Job') }),
            },
          },
          'Unauthorized',
        ),
      },
      post: {
        operationId: 'createJob',
        tags: ['jobs'],
        summary: 'Create a job',
        description: `The body is read as JSON whatever its Content-Type; an empty body is \`{}\`. ${TRAILING_SLASH}`,
        requestBody: { required: true, content: json(schemaRef('CreateJobRequest')) },
        responses: responses(
          { '201': oneJob('The new job (open: upload its tasks, then close it).') },
          'InvalidJob',
          'Unauthorized',
          'ViewerForbidden',
        ),
      },
      delete: {
        operationId: 'deleteJobs',
        tags: ['jobs'],
        summary: 'Delete all the jobs your key owns',
        description: TRAILING_SLASH,
        responses: responses(noContent, 'Unauthorized', 'ViewerForbidden'),
      },
    },
    '/api/jobs/{id}': {
      get: {
        operationId: 'getJob',
        tags: ['jobs'],
        summary: 'Read a job',
        parameters: [idParameter('job')],
        responses: responses({ '200': oneJob('The job.') }, 'Unauthorized', 'JobNotFound'),
      },
      delete: {
        operationId: 'deleteJob',
        tags: ['jobs'],
        summary: 'Delete a job with its tasks and outcomes',
        parameters: [idParameter('job')],
        responses: responses(noContent, 'Unauthorized', 'ViewerForbidden', 'JobNotFound'),
      },
    },
    '/api/jobs/{id}/tasks': {
      post: {
        operationId: 'uploadTasks',
        tags: ['jobs'],
        summary: 'Add tasks to an open job',
        description:
          'Newline-delimited JSON, one task (the `input` of one `Run` call) per line, read in constant memory whatever its size; blank lines are skipped. Any Content-Type other than `application/json` is read this way. With `Content-Type: application/json` the body is one JSON array of tasks instead. A malformed line stops the upload with a 400 whose message names the line; the tasks before it stay accepted.',
        parameters: [idParameter('job')],
        requestBody: {
          required: true,
          content: {
            'application/x-ndjson': {
              schema: { type: 'string', description: 'One JSON task per line.' },
              example: '1\n2\n{"x":3}\n',
            },
            'application/json': { schema: { type: 'array', items: {} }, example: [1, 2, { x: 3 }] },
          },
        },
        responses: responses(
          {
            '201': {
              description: 'How many tasks were added.',
              content: json(schemaRef('UploadCount')),
            },
          },
          'InvalidTasks',
          'Unauthorized',
          'ViewerForbidden',
          'JobNotFound',
          'JobNotOpen',
        ),
      },
    },
    '/api/jobs/{id}/close': {
      post: {
        operationId: 'closeJob',
        tags: ['jobs'],
        summary: 'Close a job: no more tasks',
        description: 'The job is `done` once every task has settled. Closing twice is harmless.',
        parameters: [idParameter('job')],
        responses: responses(
          { '200': oneJob('The job.') },
          'Unauthorized',
          'ViewerForbidden',
          'JobNotFound',
        ),
      },
    },
    '/api/jobs/{id}/cancel': {
      post: {
        operationId: 'cancelJob',
        tags: ['jobs'],
        summary: 'Cancel a job',
        description:
          'Stops handing out its tasks; every task not settled yet settles as a `cancelled` error (in the background, in pages), then its streams end. Outcomes settled so far stay readable. Harmless on a job that is already done or cancelled.',
        parameters: [idParameter('job')],
        responses: responses(
          { '200': oneJob('The job.') },
          'Unauthorized',
          'ViewerForbidden',
          'JobNotFound',
        ),
      },
    },
    '/api/jobs/{id}/resume': {
      post: {
        operationId: 'resumeJob',
        tags: ['jobs'],
        summary: 'Resume a paused job',
        description:
          "The server pauses a job whose tasks keep crashing the tabs that run them, or whose code volunteers' pages catch tampering with their sandbox (`paused` in the job says why). Resuming dispatches its tasks again; harmless on a job that is not paused.",
        parameters: [idParameter('job')],
        responses: responses(
          { '200': oneJob('The job.') },
          'Unauthorized',
          'ViewerForbidden',
          'JobNotFound',
        ),
      },
    },
    '/api/jobs/{id}/results': { get: outcomeStream('results') },
    '/api/jobs/{id}/errors': { get: outcomeStream('errors') },
    '/api/keys': {
      post: {
        operationId: 'createKey',
        tags: ['keys'],
        summary: 'Create an API key (admin only)',
        requestBody: { required: true, content: json(schemaRef('CreateKeyRequest')) },
        responses: responses(
          {
            '201': {
              description: 'The key with its secret: the only time the secret is shown.',
              content: json(schemaRef('CreatedKey')),
            },
          },
          'InvalidKey',
          'Unauthorized',
          'Forbidden',
        ),
      },
      get: {
        operationId: 'listKeys',
        tags: ['keys'],
        summary: 'List the API keys (admin only)',
        responses: responses(
          {
            '200': {
              description: 'The keys, oldest first, without their secrets.',
              content: json({ type: 'array', items: schemaRef('ApiKeyInfo') }),
            },
          },
          'Unauthorized',
          'Forbidden',
        ),
      },
    },
    '/api/keys/{id}': {
      delete: {
        operationId: 'revokeKey',
        tags: ['keys'],
        summary: 'Revoke an API key (admin only)',
        parameters: [idParameter('key')],
        responses: responses(noContent, 'Unauthorized', 'Forbidden', 'KeyNotFound'),
      },
    },
    '/api/whoami': {
      get: {
        operationId: 'whoAmI',
        tags: ['keys'],
        summary: 'Whose credentials these are',
        description: 'Lets a UI hide what the key may not do.',
        responses: responses(
          { '200': { description: 'The key.', content: json(schemaRef('WhoAmI')) } },
          'Unauthorized',
        ),
      },
    },
    [OPENAPI_PATH]: {
      get: {
        operationId: 'openApi',
        tags: ['server'],
        summary: 'This document',
        security: [],
        responses: {
          '200': { description: 'The OpenAPI 3.1 document.', content: json({ type: 'object' }) },
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'health',
        tags: ['server'],
        summary: 'Health and delivery statistics',
        security: [],
        parameters: [
          {
            name: 'reset',
            in: 'query',
            required: false,
            description:
              'Present (any value): start a new event-loop delay measurement window after answering.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': { description: 'The server is up.', content: json(schemaRef('Health')) },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: '`Authorization: Bearer SECRET`: a key secret or the admin token.',
      },
      token: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description:
          '`Authorization: Token SECRET` (CrowdProcess style): the header value is `Token ` followed by the secret.',
      },
      basic: {
        type: 'http',
        scheme: 'basic',
        description:
          "`Authorization: Basic base64(NAME:SECRET)`: the key's name and secret (`admin` for the admin token).",
      },
    },
    schemas: {
      CreateJobRequest: jsonSchema(CreateJobRequest),
      JobInfo: jsonSchema(JobInfo),
      Job: {
        description:
          "A job as REST shows it: JobInfo plus CrowdProcess's names for some of its fields.",
        allOf: [
          schemaRef('JobInfo'),
          {
            type: 'object',
            required: ['status', 'bid', 'browserHours'],
            properties: {
              status: { ...jsonSchema(JobState), description: 'CrowdProcess name of `state`.' },
              bid: { type: 'integer', description: 'CrowdProcess name of `priority`.' },
              browserHours: { type: 'number', description: '`computeMs` in hours.' },
            },
          },
        ],
      },
      UploadCount: {
        type: 'object',
        required: ['count'],
        properties: { count: { type: 'integer', minimum: 0, description: 'Tasks added.' } },
      },
      ResultWithMeta: {
        type: 'object',
        required: ['index', 'value'],
        properties: {
          index: { type: 'integer', minimum: 0, description: "The task's position in the job." },
          value: { description: 'The value `Run` returned.' },
        },
      },
      TaskFailure: jsonSchema(TaskFailure),
      TaskErrorLine: {
        description: 'Why a task settled as an error, and which task.',
        allOf: [
          schemaRef('TaskFailure'),
          {
            type: 'object',
            required: ['index'],
            properties: { index: { type: 'integer', minimum: 0 } },
          },
        ],
      },
      CreateKeyRequest: jsonSchema(CreateKeyRequest),
      ApiKeyInfo: jsonSchema(ApiKeyInfo),
      CreatedKey: jsonSchema(CreatedKey),
      WhoAmI: jsonSchema(WhoAmI),
      Error: errorBody,
      Health: {
        type: 'object',
        required: [
          'ok',
          'workers',
          'duplicates',
          'dropped',
          'forged',
          'sandboxFaults',
          'excludedWorkers',
          'eventLoopDelayMs',
          'rssMb',
        ],
        properties: {
          ok: { const: true },
          workers: { type: 'integer', description: 'Connected worker tabs.' },
          duplicates: { type: 'integer' },
          dropped: { type: 'integer' },
          forged: {
            type: 'integer',
            description: 'Outcomes and hand-backs from connections the task was not leased to.',
          },
          sandboxFaults: {
            type: 'integer',
            description: "Worker pages' reports of job code tampering with its sandbox.",
          },
          excludedWorkers: { type: 'integer' },
          eventLoopDelayMs: {
            type: 'object',
            required: ['p50', 'p99', 'max'],
            properties: {
              p50: { type: 'number' },
              p99: { type: 'number' },
              max: { type: 'number' },
            },
          },
          rssMb: { type: 'integer' },
        },
      },
    },
    responses: Object.fromEntries(
      Object.entries(ERROR_RESPONSES).map(([name, { codes, description }]) => [
        name,
        {
          description: `${description} Codes: ${codes.join(', ')}.`,
          content: json({
            allOf: [
              schemaRef('Error'),
              { properties: { error: { properties: { code: { enum: codes } } } } },
            ],
          }),
        },
      ]),
    ),
    parameters: {
      stream: {
        name: 'stream',
        in: 'query',
        required: false,
        description:
          'Present (any value): stay open and send outcomes as they settle until the job is done (or cancelled, or deleted). Without `from` a live stream sends only what settles from now on; add `from=0` to get everything settled so far first.',
        schema: { type: 'string' },
      },
      from: {
        name: 'from',
        in: 'query',
        required: false,
        description:
          "Start after this seq (the job's monotonic outcome cursor) to resume. Default: 0 (everything), or with `stream` the current end.",
        schema: { type: 'integer', minimum: 0 },
      },
      meta: {
        name: 'meta',
        in: 'query',
        required: false,
        description: 'Present (any value): each line is `{ index, value }` instead of the value.',
        schema: { type: 'string' },
      },
    },
  },
};

/** Every documented operation as Fastify routes it (`:id` for `{id}`); tests check the server has each. */
export const DOCUMENTED_OPERATIONS: readonly { method: 'GET' | 'POST' | 'DELETE'; url: string }[] =
  Object.entries(OPENAPI_DOCUMENT.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => ({
      method: method.toUpperCase() as 'GET' | 'POST' | 'DELETE',
      url: path.replace(/\{(\w+)\}/g, ':$1'),
    })),
  );

/** `GET /api/openapi.json`: the document, no credentials needed. */
export function openApiRoutes(app: FastifyInstance): void {
  app.get(OPENAPI_PATH, () => OPENAPI_DOCUMENT);
}

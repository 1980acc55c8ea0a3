/**
 * The `schema` of the task-model routes: a job's logs, events, series and messages, the worker
 * monitor and notes, from the protocol's schemas (feeds.ts). The OpenAPI document is generated
 * from these; route-conformance.test.ts checks real answers against them.
 */
import { Type } from '@sinclair/typebox';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { JobEvent, LogLine, Note, SeriesItem, WorkerMonitor } from '@tabgrid/protocol/feeds';
import { errorResponses, type RouteErrors } from './error-responses.js';
import { plainSchema, routeOptions } from './shared-schemas.js';

const jobParams = Type.Object({ id: Type.String({ description: "The job's id." }) });
const seriesParams = Type.Object({
  id: Type.String({ description: "The job's id." }),
  label: Type.String({
    description: 'The series label (`/^[\\w.:\\/ -]{1,100}$/`), URL-encoded.',
  }),
});

const NOT_FOUND: RouteErrors = {
  404: [
    "No such job, or it is someone else's (whose existence is not revealed).",
    ErrorCode.JOB_NOT_FOUND,
  ],
};
const VIEWER: RouteErrors = { 403: 'A viewer key can read but not change anything.' };

function feedQuery(what: string, cursor: string) {
  return Type.Object({
    stream: Type.Optional(
      Type.String({
        description: `Present (any value): stay open and send ${what} as they come until the job ends. Without \`from\` a live stream sends only what comes from now on; add \`from=0\` to get everything so far first.`,
      }),
    ),
    from: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: `Start after this seq (${cursor}) to resume. Default: 0 (everything), or with \`stream\` the current end.`,
      }),
    ),
  });
}

/** An NDJSON answer whose every line is `line`. */
function ndjson(description: string, line: object) {
  return {
    description,
    content: { 'application/x-ndjson': { schema: plainSchema(line) } },
  };
}

const BAD_FROM: RouteErrors = {
  400: ['`from` is not a non-negative integer.', ErrorCode.INVALID_REQUEST],
};

/** `GET /api/jobs/:id/logs|events`. */
function feedStream(feed: 'logs' | 'events') {
  const logs = feed === 'logs';
  return {
    operationId: logs ? 'readLogs' : 'readEvents',
    tags: ['jobs'],
    summary: logs ? "Read the job code's console lines" : "Read the job code's events",
    description: logs
      ? "Newline-delimited JSON of job code's `console.*` lines, in order: `index` is null for lines of `Setup`/`Teardown`, `count` > 1 for consecutive identical lines collapsed into one. Everything stored so far, or (`stream`) live until 5 s after the job ends (so Teardown's lines arrive)."
      : 'Newline-delimited JSON of `tabgrid.emit(name, data)` events, in order: everything stored so far, or (`stream`) live until 5 s after the job ends.',
    params: jobParams,
    querystring: feedQuery(logs ? 'lines' : 'events', `the job's ${logs ? 'log' : 'event'} seq`),
    response: {
      200: ndjson(
        `The ${feed}, one JSON object per line (the schema describes one line).`,
        logs ? LogLine : JobEvent,
      ),
      ...errorResponses({ ...BAD_FROM, ...NOT_FOUND }),
    },
  };
}

const FEED_ROUTE_SCHEMAS = {
  logs: feedStream('logs'),
  events: feedStream('events'),
  seriesLabels: {
    operationId: 'readSeriesLabels',
    tags: ['jobs'],
    summary: 'List the labels of the series the job collected',
    description:
      'The labels its settled tasks collected series under (`tabgrid.collect(label, value)`), sorted; at most 10,000.',
    params: jobParams,
    response: {
      200: {
        description: 'The labels.',
        type: 'array',
        items: { type: 'string' },
        maxItems: 10_000,
      },
      ...errorResponses(NOT_FOUND),
    },
  },
  series: {
    operationId: 'readSeries',
    tags: ['jobs'],
    summary: 'Read one series the job collected',
    description:
      "Newline-delimited JSON, one line per settled task that collected under `label`: `values` in the order the task collected them. `seq` is the task's outcome seq. Everything stored so far, or (`stream`) live until every task has settled. Durable: readable long after the job ended.",
    params: seriesParams,
    querystring: feedQuery('series items', "the task's outcome seq"),
    response: {
      200: ndjson('The series, one task per line (the schema describes one line).', SeriesItem),
      ...errorResponses({
        400: [
          '`from` is not a non-negative integer, or `label` is not a valid label.',
          ErrorCode.INVALID_REQUEST,
        ],
        ...NOT_FOUND,
      }),
    },
  },
  messages: {
    operationId: 'tellJob',
    tags: ['jobs'],
    summary: "Send a message to the job's threads",
    description:
      'The body (any JSON value, up to 64 KB) is stored, then sent to every thread of the job, running now or joining later (`tabgrid.listen`, `tabgrid.next`), each once and in order. An `Idempotency-Key` header (1 to 100 characters) names the message: sent again with the same key, it is stored once and the first `seq` answered.',
    params: jobParams,
    headers: Type.Object({
      'idempotency-key': Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 100,
          description: 'The message id: the same key again answers the first seq.',
        }),
      ),
    }),
    body: { description: 'The message: any JSON value.' },
    response: {
      201: {
        description: 'Stored and on its way: its seq in the job (1, 2, …).',
        type: 'object',
        properties: { seq: { type: 'integer', minimum: 1 } },
        required: ['seq'],
      },
      ...errorResponses(
        {
          400: [
            'The body is empty, not JSON or nests too deep, or the Idempotency-Key is not 1 to 100 characters.',
            ErrorCode.INVALID_REQUEST,
          ],
          ...VIEWER,
          ...NOT_FOUND,
          409: [
            'The job is done or cancelled (`TG_ERR_JOB_FINISHED`: messages reach only running jobs), or it has its 1,000 messages (1 MB) already (`TG_ERR_LIMIT_REACHED`).',
            ErrorCode.JOB_FINISHED,
            ErrorCode.LIMIT_REACHED,
          ],
          413: ['The message is over 64 KB.', ErrorCode.PAYLOAD_TOO_LARGE],
        },
        { body: true },
      ),
    },
  },
  workers: {
    operationId: 'listWorkers',
    tags: ['monitor'],
    summary: 'The worker monitor',
    description:
      "Each connected worker with about an hour of samples (CPU share of its threads, tasks/s, JS heap where the browser exposes it) and what each job used on it. An admin key sees every worker; other keys see the workers that ran their jobs, with only those jobs, the CPU those jobs used, and no heap (it is the whole tab's).",
    response: {
      200: {
        description: 'The workers.',
        type: 'array',
        items: plainSchema(WorkerMonitor),
      },
      ...errorResponses({}),
    },
  },
  notes: {
    operationId: 'addNote',
    tags: ['monitor'],
    summary: "Add a note at this time to the dashboard's charts",
    description: 'The body is `{ "text": "…" }`, up to 500 characters.',
    body: {
      type: 'object',
      properties: { text: { type: 'string', minLength: 1, maxLength: 500 } },
      required: ['text'],
    },
    response: {
      201: { description: 'The note, with its time.', ...plainSchema(Note) },
      ...errorResponses(
        {
          400: [
            'The body is not JSON, or not `{ text }` with 1 to 500 characters (`TG_ERR_INVALID_REQUEST`, `TG_ERR_PROTOCOL`).',
            ErrorCode.INVALID_REQUEST,
            ErrorCode.PROTOCOL,
          ],
          ...VIEWER,
          409: ['Too many notes lately.', ErrorCode.LIMIT_REACHED],
        },
        { body: true },
      ),
    },
  },
};

/** Options (`{ schema }`) of each task-model route. */
export const FEED_ROUTES = routeOptions(FEED_ROUTE_SCHEMAS);

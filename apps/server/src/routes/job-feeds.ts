/**
 * REST for what a running job tells its submitter besides outcomes (console lines, events,
 * collected series) and what the submitter tells it (messages):
 * `/api/jobs/:id/logs|events|series|series/:label|messages`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { LABEL_PATTERN, TASK_LIMITS } from '@tabgrid/protocol/task-reports';
import type { Grid } from '../core/grid.js';
import { callerOf } from './auth.js';
import { checkBodyDepth } from './bounds.js';
import { FEED_ROUTES as route } from './feed-schemas.js';
import { sendNdjson } from './ndjson.js';

/** Largest message body: the protocol's bound on one `job.tell()` message. */
export const MAX_MESSAGE_BYTES = TASK_LIMITS.maxMessageBytes;
/** Longest `Idempotency-Key` (the message id): as long as an SDK `messageId`. */
const MAX_IDEMPOTENCY_KEY = 100;

type FeedQuery = {
  Params: { id: string; label?: string };
  Querystring: { stream?: string; from?: string };
};
type IdParams = { Params: { id: string } };

/**
 * `?from` as a seq: given, it must be a non-negative integer; absent, 0 (everything), or for a
 * live stream `liveEnd` (what is durable now: only what comes from now on).
 */
export function fromQuery(query: { from?: string }, live: boolean, liveEnd: number): number {
  if (query.from === undefined) return live ? liveEnd : 0;
  const from = Number(query.from);
  if (!Number.isInteger(from) || from < 0) {
    throw new TabgridError(ErrorCode.INVALID_REQUEST, '?from must be a non-negative integer seq.');
  }
  return from;
}

/** `GET /logs|/events`: the job's stored lines (or `?stream`, live until a few seconds after it ends). */
async function streamFeed(
  grid: Grid,
  request: FastifyRequest<FeedQuery>,
  reply: FastifyReply,
  feed: 'logs' | 'events',
): Promise<void> {
  const caller = callerOf(request);
  const job = grid.job(caller, request.params.id);
  const jobId = job.record.id;
  const live = request.query.stream !== undefined;
  // A live stream without `from` starts at the lines given out so far: only what comes next.
  const info = job.info();
  const from = fromQuery(
    request.query,
    live,
    (feed === 'logs' ? info.logs?.lines : info.events?.count) ?? 0,
  );
  await sendNdjson(
    request,
    reply,
    { from, live, id: `rest-${randomUUID()}`, what: `${feed} of job ${jobId}` },
    {
      readPage: (after, limit) => grid.readFeed(caller, jobId, feed, after, limit),
      follow: (id, start, sink) => {
        grid.follow(id, jobId, feed, start, undefined, sink);
        return () => grid.unsubscribe(id);
      },
      line: (item) => JSON.stringify(item),
    },
  );
}

/** `GET /series/:label`: one line per settled task that collected under the label. */
async function streamSeries(
  grid: Grid,
  request: FastifyRequest<FeedQuery>,
  reply: FastifyReply,
): Promise<void> {
  const caller = callerOf(request);
  const job = grid.job(caller, request.params.id);
  const jobId = job.record.id;
  const label = request.params.label ?? '';
  if (!LABEL_PATTERN.test(label)) {
    throw new TabgridError(
      ErrorCode.INVALID_REQUEST,
      `"${label.slice(0, 100)}" is not a series label: 1 to 100 letters, digits, _ . : / - or spaces.`,
    );
  }
  const live = request.query.stream !== undefined;
  // The series cursor is the outcome seq: a task's series are durable with its outcome.
  const from = fromQuery(request.query, live, job.durableSeq);
  await sendNdjson(
    request,
    reply,
    { from, live, id: `rest-${randomUUID()}`, what: `series ${label} of job ${jobId}` },
    {
      readPage: (after, limit) => grid.readSeriesSince(caller, jobId, label, after, limit),
      follow: (id, start, sink) => {
        grid.follow(id, jobId, 'series', start, label, sink);
        return () => grid.unsubscribe(id);
      },
      line: (item) => JSON.stringify(item),
    },
  );
}

/** The message id of `POST /messages`: the `Idempotency-Key` header, else a fresh one. */
function messageId(request: FastifyRequest): string {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return `rest-${randomUUID()}`;
  if (typeof header !== 'string' || header.length === 0 || header.length > MAX_IDEMPOTENCY_KEY) {
    throw new TabgridError(
      ErrorCode.INVALID_REQUEST,
      `Idempotency-Key must be one header of 1 to ${MAX_IDEMPOTENCY_KEY} characters.`,
    );
  }
  return header;
}

/** The message of `POST /messages`: the whole body, any JSON value up to 64 KB. */
function messageBody(raw: unknown): unknown {
  const text = typeof raw === 'string' ? raw : '';
  if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) {
    throw new TabgridError(
      ErrorCode.PAYLOAD_TOO_LARGE,
      `A message is limited to ${MAX_MESSAGE_BYTES / 1024} KB of JSON: send a smaller one (put bulk data in the job's args or tasks).`,
    );
  }
  if (text.trim() === '') {
    throw new TabgridError(
      ErrorCode.INVALID_REQUEST,
      'The body is the message: send any JSON value (e.g. {"stop":true}).',
    );
  }
  checkBodyDepth(text);
  try {
    return JSON.parse(text);
  } catch {
    throw new TabgridError(ErrorCode.INVALID_REQUEST, 'The request body is not valid JSON.');
  }
}

/** Registers the feed and message routes under /api/jobs/:id. */
export function jobFeedRoutes(app: FastifyInstance, grid: Grid): void {
  app.get<FeedQuery>('/api/jobs/:id/logs', route.logs, (request, reply) =>
    streamFeed(grid, request, reply, 'logs'),
  );
  app.get<FeedQuery>('/api/jobs/:id/events', route.events, (request, reply) =>
    streamFeed(grid, request, reply, 'events'),
  );
  app.get<IdParams>('/api/jobs/:id/series', route.seriesLabels, (request) =>
    grid.seriesLabels(callerOf(request), request.params.id),
  );
  app.get<FeedQuery>('/api/jobs/:id/series/:label', route.series, (request, reply) =>
    streamSeries(grid, request, reply),
  );
  // The message is the raw body, measured before it is parsed: this scope parses nothing.
  void app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'string', bodyLimit: MAX_MESSAGE_BYTES },
      (_request, body, parsed) => parsed(null, body),
    );
    scope.post<IdParams>('/api/jobs/:id/messages', route.messages, async (request, reply) => {
      const id = messageId(request);
      const data = messageBody(request.body);
      const answer = await grid.tell(callerOf(request), request.params.id, data, id);
      return reply.code(201).send(answer);
    });
    done();
  });
}

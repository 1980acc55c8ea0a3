import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toTextForm } from '@tabgrid/protocol/bytes';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { JobInfo, Outcome, OutcomeKind } from '@tabgrid/protocol/jobs';
import { decodeSdkRequest } from '@tabgrid/protocol/sdk';
import type { Grid } from '../core/grid.js';
import { callerOf } from './auth.js';
import { MAX_VALUE_DEPTH, jsonDepth } from '@tabgrid/protocol/limits';
import { packText } from '@tabgrid/protocol/packed-value';
import { MAX_JSON_BODY_BYTES } from './bounds.js';
import { JOB_ROUTES as route } from './job-schemas.js';
import { jobFeedRoutes } from './job-feeds.js';
import { jsonBody } from './json-body.js';
import { UploadSlots } from './upload-slots.js';
import { LineTooLongError, forEachLineBatch, sendNdjson } from './ndjson.js';

const UPLOAD_BATCH = 2000;
/** A JSON array is parsed whole, so it is capped; NDJSON streams and is not. */
const MAX_JSON_UPLOAD = MAX_JSON_BODY_BYTES;

type IdParams = { Params: { id: string } };
type ListQuery = { Querystring: { name?: string; latest?: string } };
type OutcomeQuery = {
  Params: { id: string };
  Querystring: { stream?: string; from?: string; meta?: string; provenance?: string };
};

/**
 * A job as REST shows it: Tabgrid's fields plus CrowdProcess's names for them (`status`, `bid`,
 * `browserHours`), so CrowdProcess clients read it unchanged.
 */
function restView(info: JobInfo) {
  return {
    ...info,
    status: info.state,
    bid: info.priority,
    browserHours: info.computeMs / 3_600_000,
  };
}

/**
 * One line of a results or errors stream. Without `?meta` or `?provenance` a result line is the
 * bare value, as CrowdProcess clients read it; `?provenance` makes it `{ index, value,
 * provenance }` and adds `provenance` to an error line.
 */
function outcomeLine(outcome: Outcome, kind: OutcomeKind, meta: boolean): string {
  const provenance = outcome.provenance;
  if (outcome.ok) {
    // Typed arrays kept as bytes (socket-form tags) are written as base64 tags, the REST form.
    const value = toTextForm(outcome.value);
    if (provenance) return JSON.stringify({ index: outcome.index, value, provenance });
    return JSON.stringify(meta ? { index: outcome.index, value } : value);
  }
  const { message, name, stack, type } = outcome.error;
  if (kind !== 'errors') return JSON.stringify(outcome);
  const line = { message, name, stack, type, index: outcome.index };
  return JSON.stringify(provenance ? { ...line, provenance } : line);
}

/** Uploads newline-delimited JSON (or a JSON array) in constant memory; a bad line stops it. */
async function uploadTasks(
  grid: Grid,
  request: FastifyRequest<IdParams>,
): Promise<{ count: number }> {
  const jobId = request.params.id;
  grid.job(callerOf(request), jobId);
  const upload = randomUUID();
  let count = 0;
  let batchNo = 0;
  const submit = async (inputs: string[]) => {
    if (inputs.length === 0) return;
    // Base64 tags (the documented REST form) are kept as bytes, as an SDK submit keeps them.
    const values = inputs.map(packText);
    await grid.submitEncoded(callerOf(request), jobId, `rest-${upload}-${batchNo++}`, values);
    count += inputs.length;
  };
  if (/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
    let text = '';
    request.raw.setEncoding('utf8');
    for await (const chunk of request.raw as AsyncIterable<string>) {
      text += chunk;
      if (text.length > MAX_JSON_UPLOAD) {
        throw new TabgridError(
          ErrorCode.PAYLOAD_TOO_LARGE,
          `A JSON array upload is limited to ${MAX_JSON_UPLOAD / 1024 / 1024} MB: send newline-delimited JSON (no Content-Type, or application/x-ndjson) for more, it streams in constant memory.`,
        );
      }
    }
    const tasks = jsonBody(text);
    if (!Array.isArray(tasks)) {
      throw new TabgridError(
        ErrorCode.INVALID_TASK,
        'A JSON body must be an array of tasks; send one task per line as application/x-ndjson otherwise.',
      );
    }
    for (let i = 0; i < tasks.length; i += UPLOAD_BATCH) {
      await submit(tasks.slice(i, i + UPLOAD_BATCH).map((task) => JSON.stringify(task ?? null)));
    }
    return { count };
  }
  try {
    await forEachLineBatch(request.raw, UPLOAD_BATCH, async (lines, firstLine) => {
      const inputs: string[] = [];
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!.trim();
        if (line === '') continue;
        if (jsonDepth(line, MAX_VALUE_DEPTH) > MAX_VALUE_DEPTH) {
          await submit(inputs);
          throw new TabgridError(
            ErrorCode.INVALID_TASK,
            `Line ${firstLine + i} is nested deeper than ${MAX_VALUE_DEPTH} levels of arrays and objects; the ${count} task(s) before it were accepted. Flatten it and upload the rest.`,
          );
        }
        try {
          JSON.parse(line);
        } catch (err) {
          await submit(inputs);
          throw new TabgridError(
            ErrorCode.INVALID_TASK,
            `Line ${firstLine + i} is not valid JSON (${(err as Error).message}); the ${count} task(s) before it were accepted. Fix the line and upload the rest.`,
          );
        }
        inputs.push(line);
      }
      await submit(inputs);
    });
  } catch (err) {
    if (!(err instanceof LineTooLongError)) throw err;
    throw new TabgridError(
      ErrorCode.INVALID_TASK,
      `${err.message}; the ${count} task(s) before it were accepted. Send one task per line, each under that size.`,
    );
  }
  return { count };
}

/** Streams settled outcomes as NDJSON: everything so far, or (`?stream`) live until the job is done. */
async function streamOutcomes(
  grid: Grid,
  request: FastifyRequest<OutcomeQuery>,
  reply: FastifyReply,
  kind: OutcomeKind,
): Promise<void> {
  const job = grid.job(callerOf(request), request.params.id);
  const live = request.query.stream !== undefined;
  const meta = request.query.meta !== undefined;
  const options = { provenance: request.query.provenance !== undefined };
  const from =
    request.query.from !== undefined ? Number(request.query.from) : live ? job.durableSeq : 0;
  if (!Number.isInteger(from) || from < 0) {
    throw new TabgridError(ErrorCode.INVALID_REQUEST, '?from must be a non-negative integer seq.');
  }
  const jobId = job.record.id;
  await sendNdjson(
    request,
    reply,
    { from, live, id: `rest-${randomUUID()}`, what: kind },
    {
      readPage: (after, limit) => grid.readOutcomes(jobId, after, kind, limit, options),
      follow: (id, start, sink) => {
        grid.subscribe(id, jobId, kind, start, sink, options);
        return () => grid.unsubscribe(id);
      },
      line: (outcome) => outcomeLine(outcome, kind, meta),
    },
  );
}

/** REST under /api/jobs: the SDK's operations over HTTP, and a CrowdProcess-compatible surface. */
export function jobRoutes(
  app: FastifyInstance,
  grid: Grid,
  uploads: UploadSlots = new UploadSlots(),
): void {
  app.get<ListQuery>('/api/jobs', route.list, (request) => {
    const { name, latest } = request.query;
    if (latest === undefined) {
      const jobs = grid.listJobs(callerOf(request));
      return (name === undefined ? jobs : jobs.filter((job) => job.name === name)).map(restView);
    }
    if (name === undefined) {
      throw new TabgridError(
        ErrorCode.INVALID_REQUEST,
        '?latest needs ?name=NAME: the newest of your jobs with that name is answered.',
      );
    }
    const job = grid.latestJob(callerOf(request), name);
    if (!job) {
      throw new TabgridError(
        ErrorCode.JOB_NOT_FOUND,
        `You have no job named "${name}": list your jobs with GET /api/jobs.`,
      );
    }
    return restView(job.info());
  });
  app.post('/api/jobs', route.create, async (request, reply) => {
    const req = decodeSdkRequest['job:create'](jsonBody(request.body));
    const info = await grid.createJob(callerOf(request), req);
    return reply.code(201).send(restView(info));
  });
  app.delete('/api/jobs', route.deleteAll, async (request, reply) => {
    await grid.deleteJobs(callerOf(request));
    return reply.code(204).send();
  });
  app.get<IdParams>('/api/jobs/:id', route.get, (request) =>
    restView(grid.job(callerOf(request), request.params.id).info()),
  );
  app.delete<IdParams>('/api/jobs/:id', route.delete, async (request, reply) => {
    await grid.deleteJob(callerOf(request), request.params.id);
    return reply.code(204).send();
  });
  app.post<IdParams>('/api/jobs/:id/close', route.close, async (request) =>
    restView(await grid.closeJob(callerOf(request), request.params.id)),
  );
  app.post<IdParams>('/api/jobs/:id/cancel', route.cancel, async (request) =>
    restView(await grid.cancelJob(callerOf(request), request.params.id)),
  );
  app.post<IdParams>('/api/jobs/:id/resume', route.resume, async (request) =>
    restView(await grid.resumeJob(callerOf(request), request.params.id)),
  );
  app.get<OutcomeQuery>('/api/jobs/:id/results', route.results, (request, reply) =>
    streamOutcomes(grid, request, reply, 'results'),
  );
  app.get<OutcomeQuery>('/api/jobs/:id/errors', route.errors, (request, reply) =>
    streamOutcomes(grid, request, reply, 'errors'),
  );

  jobFeedRoutes(app, grid);

  // The upload reads the raw body itself, so this scope parses nothing.
  void app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));
    scope.post<IdParams>('/api/jobs/:id/tasks', route.tasks, async (request, reply) => {
      let release: (() => void) | undefined;
      try {
        release = uploads.acquire(callerOf(request).name);
        return await reply.code(201).send(await uploadTasks(grid, request));
      } catch (err) {
        // The rest of the body is left unread: close the connection instead of reusing it.
        void reply.header('connection', 'close');
        throw err;
      } finally {
        release?.();
      }
    });
    done();
  });
}

/**
 * The commands on an existing job's outcomes: `watch JOB` (live progress, then the summary),
 * `results JOB` and `errors JOB` (JSON lines on stdout, live until the job ends).
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { JobInfo } from '@tabgrid/protocol/jobs';
import type { Job } from '../job.js';
import { resolveJobRef, type CommandContext } from './context.js';
import { numberFlag } from './flags.js';
import { jsonLine } from './output.js';
import { ProgressTracker } from './progress-tracker.js';
import { showProgress } from './progress-view.js';
import { exitCodeOf } from './run-command.js';
import { ErrorGroups, formatSummary } from './run-summary.js';
import { EXIT } from './usage.js';

/** How often `watch` asks the server for the job's counters. */
const POLL_MS = 1_000;

const ended = (info: JobInfo) => info.state === 'done' || info.state === 'cancelled';

/** `tabgrid watch JOB`: progress from the job's counters; error groups from its errors. */
export async function watchCommand(ctx: CommandContext, ref: string): Promise<number> {
  const { io, values } = ctx;
  const everyMs = (numberFlag(values, 'progress-every', 0.1, 3_600) ?? 5) * 1_000;
  const { job, info: first } = await resolveJobRef(ctx.client(), ref);
  let info = first;
  const alreadySettled = first.finished + first.failed;
  await io.err.write(
    `tabgrid: watching job ${job.id} (${info.name}): ${alreadySettled}/${info.total} settled, ${info.state}\n`,
  );
  const tracker = new ProgressTracker(ctx.now, alreadySettled);
  const view = showProgress({
    sink: io.err,
    stream: ctx.errStream,
    label: `job ${job.id}`,
    everyMs,
    mode: values.quiet === true ? 'off' : 'auto',
    read: () => {
      tracker.record(info.finished + info.failed, info.failed, info.total);
      return tracker.snapshot();
    },
  });
  let polling = true;
  const poller = (async () => {
    while (polling && !ended(info)) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      info = await job.status().catch(() => info);
    }
  })();
  const errors = new ErrorGroups();
  let end: JobEnd;
  try {
    end = await drain(job, job.errors(), (e) => errors.add(e.index, e));
    if (end.info) info = end.info;
  } finally {
    polling = false;
    await poller;
    await view.stop();
  }
  const cancelled = end.cancelled;
  await io.err.write(
    formatSummary({
      jobId: job.id,
      name: info.name,
      total: info.total,
      succeeded: info.finished,
      failed: info.failed,
      elapsedMs: Date.parse(info.modified) - Date.parse(info.created),
      cancelled,
      errors,
    }),
  );
  return exitCodeOf({ failed: info.failed, cancelled });
}

/** How a job's stream ended: with the job done, or cancelled (or deleted) first. */
interface JobEnd {
  cancelled: boolean;
  /** The job's last state (absent once deleted). */
  info?: JobInfo;
}

/**
 * Reads `stream` to its end, then asks how the job ended. A stream that rejects with
 * `TG_ERR_JOB_CANCELLED` (or a job gone by then) counts as cancelled, not as a failure.
 */
async function drain<T>(
  job: Job,
  stream: AsyncIterable<T>,
  each: (item: T) => unknown,
): Promise<JobEnd> {
  try {
    for await (const item of stream) await each(item);
  } catch (error) {
    if (!(error instanceof TabgridError && error.code === ErrorCode.JOB_CANCELLED)) throw error;
  }
  try {
    const info = await job.status();
    return { cancelled: info.state === 'cancelled', info };
  } catch (error) {
    if (error instanceof TabgridError && error.code === ErrorCode.JOB_NOT_FOUND) {
      return { cancelled: true };
    }
    throw error;
  }
}

async function printStream<T>(ctx: CommandContext, job: Job, stream: AsyncIterable<T>) {
  const end = await drain(job, stream, (item) => ctx.io.out.write(jsonLine(item)));
  if (!end.cancelled) return EXIT.OK;
  await ctx.io.err.write(
    `tabgrid: job ${job.id} was ${end.info ? 'cancelled' : 'deleted'} before all its tasks settled.\n`,
  );
  return EXIT.CANCELLED;
}

/** `tabgrid results JOB`: `{ index, value, seq }` lines as the job's tasks succeed. */
export async function resultsCommand(ctx: CommandContext, ref: string): Promise<number> {
  const { job } = await resolveJobRef(ctx.client(), ref);
  return printStream(ctx, job, job.results());
}

/** `tabgrid errors JOB`: `{ index, name, message, stack, type, seq }` lines as tasks fail. */
export async function errorsCommand(ctx: CommandContext, ref: string): Promise<number> {
  const { job } = await resolveJobRef(ctx.client(), ref);
  return printStream(ctx, job, job.errors());
}

/**
 * What every command gets: its flags, the CLI's streams, a client opened on first use, and
 * the job a `JOB` argument names (an id or, failing that, the newest job of that name).
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { JobInfo } from '@tabgrid/protocol/jobs';
import type { Tabgrid } from '../client.js';
import type { Job } from '../job.js';
import type { FlagValues } from './flags.js';
import type { Io } from './output.js';

export interface CommandContext {
  values: FlagValues;
  io: Io;
  /** The stream behind `io.err`, for a progress bar to draw on. */
  errStream: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & AsyncIterable<Uint8Array | string>;
  /** The client of `--url`/`--token` (or of `--local`), opened on first call. */
  client: () => Tabgrid;
  /** Wall-clock time (ms). */
  now: () => number;
  /** Calls `handler` on each Ctrl-C until the returned function is called. */
  onInterrupt: (handler: () => void) => () => void;
}

/**
 * The job `ref` names: the job with that id, else the caller's newest job of that name.
 *
 * @example
 * const { job, info } = await resolveJobRef(tg, 'my-experiment');
 */
export async function resolveJobRef(
  tg: Tabgrid,
  ref: string,
): Promise<{ job: Job; info: JobInfo }> {
  const byId = tg.job(ref);
  try {
    return { job: byId, info: await byId.status() };
  } catch (error) {
    if (!(error instanceof TabgridError) || error.code !== ErrorCode.JOB_NOT_FOUND) throw error;
  }
  const byName = await tg.latestJob(ref);
  if (!byName) {
    throw new TabgridError(
      ErrorCode.JOB_NOT_FOUND,
      `No job of yours has the id or the name "${ref}": see tabgrid jobs.`,
    );
  }
  return { job: byName, info: byName.info ?? (await byName.status()) };
}

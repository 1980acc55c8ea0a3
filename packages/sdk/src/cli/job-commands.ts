/**
 * The commands on jobs as records: `jobs` (newest first, with progress and age), `status`,
 * `cancel`, `resume` and `delete`.
 */
import type { JobInfo } from '@tabgrid/protocol/jobs';
import type { CommandContext } from './context.js';
import { formatAge, table } from './output.js';
import { EXIT } from './usage.js';

/** `412/1000 41%` (a job with no tasks yet: `0/0`). */
export function progressCell(job: Pick<JobInfo, 'finished' | 'failed' | 'total'>): string {
  const settled = job.finished + job.failed;
  const percent = job.total > 0 ? ` ${Math.floor((settled * 100) / job.total)}%` : '';
  return `${settled}/${job.total}${percent}`;
}

/**
 * The jobs as aligned columns, newest first; numbers right-aligned.
 *
 * @example
 * // ID      NAME     STATE   PROGRESS      FAILED  RUNNING  QUEUED  PRIORITY  AGE
 * // j_b7c…  squares  closed  412/1000 41%       3       16     569         0  2m
 */
export function jobsTable(jobs: readonly JobInfo[], now: number): string {
  const newestFirst = [...jobs].sort(
    (a, b) => Date.parse(b.created) - Date.parse(a.created) || b.id.localeCompare(a.id),
  );
  const state = (j: JobInfo) => (j.paused ? `${j.state} (paused)` : j.state);
  return table(
    [
      ['ID', 'NAME', 'STATE', 'PROGRESS', 'FAILED', 'RUNNING', 'QUEUED', 'PRIORITY', 'AGE'],
      ...newestFirst.map((j) => [
        j.id,
        j.name,
        state(j),
        progressCell(j),
        String(j.failed),
        String(j.inFlight),
        String(j.queued),
        String(j.priority),
        formatAge(j.created, now),
      ]),
    ],
    new Set([3, 4, 5, 6, 7, 8]),
  );
}

/** One job as `key: value` lines (object-valued counters as their JSON). */
export function describeJob(job: JobInfo): string {
  return Object.entries(job)
    .map(([key, value]: [string, unknown]) => {
      const text =
        typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
      return `${`${key}:`.padEnd(18)} ${text}`;
    })
    .join('\n');
}

async function print(ctx: CommandContext, info: unknown, text: string): Promise<number> {
  await ctx.io.out.write(`${ctx.values.json === true ? JSON.stringify(info, null, 2) : text}\n`);
  return EXIT.OK;
}

export async function jobsCommand(ctx: CommandContext): Promise<number> {
  const jobs = await ctx.client().jobs();
  return print(ctx, jobs, jobs.length === 0 ? 'No jobs.' : jobsTable(jobs, ctx.now()));
}

export async function statusCommand(ctx: CommandContext, id: string): Promise<number> {
  const info = await ctx.client().job(id).status();
  return print(ctx, info, describeJob(info));
}

export async function cancelCommand(ctx: CommandContext, id: string): Promise<number> {
  const info = await ctx.client().job(id).cancel();
  return print(
    ctx,
    info,
    info.state === 'cancelled' ? `Cancelled job ${id}.` : `Job ${id} is ${info.state}.`,
  );
}

export async function resumeCommand(ctx: CommandContext, id: string): Promise<number> {
  const info = await ctx.client().job(id).resume();
  return print(
    ctx,
    info,
    `Job ${id} is ${info.state}${info.paused ? `, paused: ${info.paused}` : ', dispatching'}.`,
  );
}

export async function deleteCommand(ctx: CommandContext, id: string): Promise<number> {
  await ctx.client().job(id).delete();
  await ctx.io.out.write(`Deleted job ${id}.\n`);
  return EXIT.OK;
}

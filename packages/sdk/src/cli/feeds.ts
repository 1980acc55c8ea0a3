/**
 * The CLI's `logs` and `series` commands, over REST (`/api/jobs/:id/logs`, `/series/:label`):
 * a job named by id or, when no job has that id, the caller's latest job of that name.
 */
import { fromSocketForm } from '@tabgrid/protocol/bytes';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { decodeLogLine, decodeSeriesItem } from '@tabgrid/protocol/feeds';
import { decodeJobView, type JobView } from '@tabgrid/protocol/http';
import type { RestClient } from '../rest.js';
import { plainJson } from './output.js';

/** Where the commands write (stdout in the CLI; a buffer in tests). */
export type Write = (text: string) => void;

/** The job `ref` names: the job with that id, else the caller's latest job with that name. */
export async function resolveJob(rest: RestClient, ref: string): Promise<JobView> {
  try {
    return decodeJobView(await rest.json('GET', `/api/jobs/${encodeURIComponent(ref)}`));
  } catch (error) {
    if (!(error instanceof TabgridError) || error.code !== ErrorCode.JOB_NOT_FOUND) throw error;
  }
  try {
    return decodeJobView(
      await rest.json('GET', `/api/jobs?name=${encodeURIComponent(ref)}&latest=1`),
    );
  } catch (error) {
    if (error instanceof TabgridError && error.code === ErrorCode.JOB_NOT_FOUND) {
      throw new TabgridError(
        ErrorCode.JOB_NOT_FOUND,
        `No job of yours has the id or the name "${ref}": see tabgrid jobs.`,
      );
    }
    throw error;
  }
}

/** One console line as text: `[index] level ×count message` (`-` for no task, no ×1). */
export function formatLogLine(line: {
  index: number | null;
  level: string;
  count: number;
  message: string;
}): string {
  const count = line.count > 1 ? ` ×${line.count}` : '';
  return `[${line.index ?? '-'}] ${line.level}${count} ${line.message}`;
}

/** A CSV field: finite numbers as they are, anything else as its JSON, quoted. */
function csvValue(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return `"${plainJson(value).replaceAll('"', '""')}"`;
}

export const CSV_HEADER = 'index,step,value';

/** The CSV rows of one task's series: `index,step,value`, step n = the n-th value collected. */
export function csvRows(item: { index: number; values: unknown[] }): string[] {
  return item.values.map((value, step) => `${item.index},${step},${csvValue(value)}`);
}

/** `tabgrid logs JOB [--follow]`: every console line so far, then (`follow`) live until it ends. */
export async function printLogs(
  rest: RestClient,
  ref: string,
  follow: boolean,
  write: Write,
): Promise<void> {
  const job = await resolveJob(rest, ref);
  const path = `/api/jobs/${encodeURIComponent(job.id)}/logs${follow ? '?stream&from=0' : ''}`;
  for await (const text of rest.lines(path)) {
    write(`${formatLogLine(decodeLogLine(JSON.parse(text)))}\n`);
  }
}

/** `tabgrid series JOB LABEL [--csv]`: one JSON line `{ index, values }` per task, or CSV. */
export async function printSeries(
  rest: RestClient,
  ref: string,
  label: string,
  csv: boolean,
  write: Write,
): Promise<void> {
  const job = await resolveJob(rest, ref);
  const path = `/api/jobs/${encodeURIComponent(job.id)}/series/${encodeURIComponent(label)}`;
  if (csv) write(`${CSV_HEADER}\n`);
  for await (const text of rest.lines(path)) {
    const { index, values } = decodeSeriesItem(JSON.parse(text));
    if (csv) {
      const rows = csvRows({ index, values: fromSocketForm(values) as unknown[] });
      if (rows.length > 0) write(`${rows.join('\n')}\n`);
    } else {
      write(`${JSON.stringify({ index, values })}\n`);
    }
  }
}

/**
 * The `WorkerOutcome` items a simulated worker reports, as the worker page writes them: one
 * JSON text per task, so one unserialisable value fails its own task, not the batch.
 */
import { toTextForm } from '@tabgrid/protocol/bytes';
import type { WorkerFailure, WorkerOutcome } from '@tabgrid/protocol/worker';
import { cleanStack, withClosureHint } from './job-stacks.js';

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** What the worker page reports for a thrown value: job.js frames only, a closure hint. */
export function describe(error: unknown): WorkerFailure {
  if (typeof error === 'object' && error !== null) {
    const { name, message, stack } = error as Record<string, unknown>;
    if (typeof message === 'string') {
      const errorName = typeof name === 'string' ? name : 'Error';
      const told = withClosureHint(errorName, message);
      return {
        name: errorName,
        message: told,
        stack: typeof stack === 'string' ? cleanStack(stack, errorName, message, told) : '',
      };
    }
  }
  return { name: 'Error', message: `Run threw a non-Error value: ${String(error)}`, stack: '' };
}

/** A result as the worker page sends it: typed arrays in the protocol's text form. */
export function plain(value: unknown): unknown {
  if (value === undefined) return null;
  return toTextForm(value);
}

function roundMs(ms: number): number {
  return Math.max(0, Math.round(ms * 1000) / 1000);
}

/** The JSON text of a successful outcome (throws if `value` cannot be sent as JSON). */
export function successItem(
  jobId: string,
  index: number,
  ms: number,
  value: unknown,
  series?: string,
): string {
  const item: WorkerOutcome = { jobId, index, ms: roundMs(ms), ok: true, value };
  return withSeries(JSON.stringify(item), series);
}

export function failureItem(
  jobId: string,
  index: number,
  ms: number,
  error: WorkerFailure,
  series?: string,
): string {
  const item: WorkerOutcome = { jobId, index, ms: roundMs(ms), ok: false, error };
  return withSeries(JSON.stringify(item), series);
}

/**
 * The outcome's text with `"series":[…]` appended, as the page's thread appends it: `series` is
 * the JSON text of the task's `ReportSeries` array (./task-api.ts), or undefined for none.
 */
function withSeries(item: string, series: string | undefined): string {
  return series === undefined ? item : `${item.slice(0, -1)},"series":${series}}`;
}

/** What a tab says of a task it terminated at the job's `timeoutMs`. */
export function timeoutFailure(timeoutMs: number): WorkerFailure {
  return {
    name: 'TimeoutError',
    message: `Run took longer than the job's timeoutMs (${timeoutMs} ms)`,
    stack: '',
    timedOut: true,
  };
}

/** A result that `JSON.stringify` refused, as the page reports it. */
export function unsendableFailure(error: unknown): WorkerFailure {
  return {
    name: 'TypeError',
    message: `Run returned a value that cannot be sent as JSON (${describe(error).message}); return plain JSON values`,
    stack: '',
  };
}

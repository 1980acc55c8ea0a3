/**
 * The SDK's side of "say, don't coerce": a job's `values` mode (strict by default), how it
 * reaches the job's threads (the program's lossy directive), and the check of its `args`.
 * Tasks are checked as they are batched (batches.ts); results in the job thread.
 */
import {
  LOSSY_VALUES_DIRECTIVE,
  assertFaithful,
  type ValuesMode,
} from '@tabgrid/protocol/faithful-json';
import type { JobContext } from './job-context.js';

export type { ValuesMode } from '@tabgrid/protocol/faithful-json';

/**
 * The program as sent: with `values: 'lossy'` it starts with the lossy directive, on its first
 * line (so stack lines keep the program's line numbers), which tells every thread of the job to
 * convert results as JSON.stringify does.
 *
 * @example
 * programWithValues('var Run = (d) => d;', 'lossy'); // '"tabgrid values: lossy"; var Run = (d) => d;'
 */
export function programWithValues(source: string, values: ValuesMode): string {
  if (values !== 'lossy' || source.startsWith(LOSSY_VALUES_DIRECTIVE)) return source;
  return `${LOSSY_VALUES_DIRECTIVE} ${source}`;
}

/** Throws TG_ERR_UNFAITHFUL_VALUE when JSON cannot carry the job's `args` faithfully. */
export function checkArgs(args: unknown, values: ValuesMode): void {
  if (args !== undefined) assertFaithful(args, 'args', -1, values);
}

/** The context a job's handle submits with: the job's mode, or the client's. */
export function contextWithValues(context: JobContext, values: ValuesMode): JobContext {
  if ((context.batch.values ?? 'strict') === values) return context;
  return { ...context, batch: { ...context.batch, values } };
}

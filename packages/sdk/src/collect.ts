/**
 * Putting a job's unordered outcomes back into input order (what `job.map()` returns).
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { Outcome, TaskFailure } from '@tabgrid/protocol/jobs';

/** Where one submitted batch landed: input positions `offset…` got job indexes `firstIndex…`. */
export interface BatchRange {
  offset: number;
  firstIndex: number;
  count: number;
}

/** A failed task, flattened (what `job.errors()` yields). */
export type TaskError = { index: number; seq: number } & TaskFailure;

const LISTED = 10;

function listIndexes(indexes: number[]): string {
  const shown = indexes.slice(0, LISTED).join(', ');
  return indexes.length > LISTED ? `${shown}, … (${indexes.length - LISTED} more)` : shown;
}

/**
 * `job.map()` rejects with this when tasks failed. It is a {@link TabgridError} with code
 * `TG_ERR_TASKS_FAILED`; `failures` holds every failed task and `values` the input-ordered
 * results (`undefined` where the task failed).
 *
 * @example
 * try {
 *   await job.map(inputs);
 * } catch (e) {
 *   if (e instanceof TasksFailedError) console.log(e.failures.map((f) => f.index), e.values);
 * }
 */
export class TasksFailedError<T = unknown> extends TabgridError {
  constructor(
    readonly failures: TaskError[],
    readonly values: (T | undefined)[],
  ) {
    const first = failures[0];
    const plural = values.length === 1 ? 'task' : 'tasks';
    super(
      ErrorCode.TASKS_FAILED,
      `${failures.length} of ${values.length} ${plural} failed (indexes ${listIndexes(
        failures.map((f) => f.index),
      )})` + (first ? `; the first: ${first.name}: ${first.message}` : '.'),
    );
  }
}

/**
 * The values of the tasks in `ranges`, in input order. Throws {@link TasksFailedError} if any of
 * them failed, and a PROTOCOL error if an outcome is missing (the job ended without it).
 *
 * @example
 * collectInOrder([{ offset: 0, firstIndex: 5, count: 2 }], outcomesByIndex); // [v5, v6]
 */
export function collectInOrder<T>(
  ranges: readonly BatchRange[],
  outcomes: ReadonlyMap<number, Outcome>,
): T[] {
  const length = ranges.reduce((n, r) => Math.max(n, r.offset + r.count), 0);
  const values = new Array<T | undefined>(length);
  const failures: TaskError[] = [];
  const missing: number[] = [];
  for (const range of ranges) {
    for (let i = 0; i < range.count; i += 1) {
      const index = range.firstIndex + i;
      const outcome = outcomes.get(index);
      if (!outcome) missing.push(index);
      else if (outcome.ok) values[range.offset + i] = outcome.value as T;
      else failures.push({ index, seq: outcome.seq, ...outcome.error });
    }
  }
  if (missing.length > 0) {
    missing.sort((a, b) => a - b);
    throw new TabgridError(
      ErrorCode.PROTOCOL,
      `The job's stream ended without outcomes for ${missing.length} tasks (indexes ${listIndexes(missing)}).`,
    );
  }
  if (failures.length > 0) {
    failures.sort((a, b) => a.index - b.index);
    throw new TasksFailedError<T>(failures, values);
  }
  return values as T[];
}

/** The errors the scheduler settles tasks with, each saying what happened and what to do. */
import type { TaskFailure } from '@tabgrid/protocol/jobs';

/** A result the server cannot encode (nested too deep for JSON.stringify, typically). */
export function unstorableResult(index: number, err: unknown): TaskFailure {
  const why = err instanceof Error ? err.message : String(err);
  return {
    name: 'ResultError',
    message: `Task ${index} returned a value the server cannot store (${why}). Return plain JSON values nested at most a few hundred levels deep.`,
    stack: '',
    type: 'program',
  };
}

/** A task timed out, or was never answered by a live worker, `attempts` times. */
export function failedAttempts(
  index: number,
  type: 'timeout' | 'lost',
  attempts: number,
  maxAttempts: number,
  detail: string,
): TaskFailure {
  return {
    name: type === 'timeout' ? 'TimeoutError' : 'LostError',
    message: `Task ${index} failed ${attempts} time(s) (maxAttempts ${maxAttempts}): ${detail}`,
    stack: '',
    type,
  };
}

/** A task crashed or lost its tab `attempts` times while it ran alone there. */
export function crashed(
  index: number,
  attempts: number,
  limit: number,
  detail: string,
): TaskFailure {
  return {
    name: 'LostError',
    message: `Task ${index} crashed or lost its tab ${attempts} time(s) (limit ${limit}): ${detail}`,
    stack: '',
    type: 'lost',
  };
}

/** The job was cancelled before the task settled. */
export function cancelled(index: number): TaskFailure {
  return {
    name: 'CancelledError',
    message: `Task ${index} did not run to the end: its job was cancelled.`,
    stack: '',
    type: 'cancelled',
  };
}

/** Why a job whose tasks keep killing tabs was paused. */
export function pausedReason(crashedTasks: number, crashLimit: number): string {
  return `Paused: ${crashedTasks} tasks crashed or lost their tab ${crashLimit} time(s) each, so the job stopped to spare the volunteers' tabs. Fix the program, then resume or cancel the job.`;
}

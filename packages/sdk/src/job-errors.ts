/**
 * The errors a stream or pool call ends with when its job did not finish normally: cancelled
 * (from anywhere, or by an `AbortSignal`), deleted, or one of its tasks failed.
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { TaskFailure } from '@tabgrid/protocol/jobs';

/** Why a job ended before all its tasks settled. */
export type CancelReason = 'cancelled' | 'deleted' | 'aborted';

function cancelMessage(jobId: string, reason: CancelReason, detail?: string): string {
  if (jobId === '') return 'The call was aborted (its AbortSignal) before its job was created.';
  const why =
    reason === 'aborted'
      ? 'was cancelled: its AbortSignal was aborted'
      : reason === 'deleted'
        ? 'was deleted'
        : 'was cancelled (job.cancel(), the dashboard or the REST API)';
  const tail = detail ? `: ${detail}` : '.';
  return `Job ${jobId} ${why} before all its tasks settled${tail} Outcomes that settled before are in job.results() / job.errors().`;
}

/**
 * What `job.run()`, `job.results()`, `job.errors()`, `job.map()` and every pool call throw when
 * the job is cancelled or deleted before it finished (after the outcomes that did arrive), and
 * what a pool call rejects with when its `AbortSignal` is aborted. Code `TG_ERR_JOB_CANCELLED`;
 * `reason` says which; `cause` is the signal's reason for `aborted`.
 *
 * @example
 * try {
 *   for await (const o of job.run(tasks)) use(o);
 * } catch (e) {
 *   if (e instanceof JobCancelledError) console.log('stopped:', e.reason);
 *   else throw e;
 * }
 */
export class JobCancelledError extends TabgridError {
  override name = 'JobCancelledError';
  constructor(
    readonly jobId: string,
    readonly reason: CancelReason,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.JOB_CANCELLED, cancelMessage(jobId, reason, detail));
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

/**
 * What a pool call (`pool.map`, `imap`, `unorderedImap`, `mapAsync().get()`) rejects with at the
 * first failed task: code `TG_ERR_TASK_FAILED`, the task's `index` in its job (for a pool's job,
 * its position in the input), and its `failure` as the job reported it (`name`, `message`,
 * `stack` on the program's lines, `type`). `stack` is the task's stack. The pool then cancels
 * the job: its other tasks are dropped.
 *
 * @example
 * try {
 *   await pool.map(inputs);
 * } catch (e) {
 *   if (e instanceof TaskFailedError) console.error(e.index, e.failure.name, e.failure.message);
 * }
 */
export class TaskFailedError extends TabgridError {
  override name = 'TaskFailedError';
  constructor(
    readonly jobId: string,
    readonly index: number,
    readonly failure: TaskFailure,
  ) {
    super(
      ErrorCode.TASK_FAILED,
      `Task ${index} of job ${jobId} failed (${failure.type}): ${failure.name}: ${failure.message}. Rerun it with \`tabgrid replay ${jobId} ${index}\`.`,
    );
    // The task's own stack, on the program's lines, is what helps; the SDK's says nothing.
    if (failure.stack) this.stack = `${this.name}: ${this.message}\n${failure.stack}`;
  }
}

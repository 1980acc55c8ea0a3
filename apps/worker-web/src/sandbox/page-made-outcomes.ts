/**
 * Outcomes the page writes itself, in the protocol's JSON text, for tasks whose thread could not
 * report them: it hung past the time limit, or its job code tampered with the runtime.
 */
import type { LocalJob } from './chunk';
import type { ThreadTask } from '@tabgrid/job-runtime/sandbox-protocol';

/** The task ran (or its program loaded) past the job's time limit; `ms` as charged. */
export function timeoutOutcome(job: LocalJob, index: number, ms: number, loaded: boolean): string {
  const message = loaded
    ? `Run did not finish within ${job.timeoutMs} ms`
    : `the program did not finish loading within ${job.timeoutMs} ms`;
  return JSON.stringify({
    jobId: job.jobId,
    index,
    ms,
    ok: false,
    error: { name: 'TimeoutError', message, stack: '', timedOut: true },
  });
}

/** Every task of `tasks` failed with a `SandboxViolation` saying `reason`, joined by commas. */
export function violationOutcomes(job: LocalJob, tasks: ThreadTask[], reason: string): string {
  const error = { name: 'SandboxViolation', message: reason, stack: '' };
  let outcomes = '';
  for (const task of tasks) {
    const text = JSON.stringify({
      jobId: job.jobId,
      index: task.index,
      ms: 0,
      ok: false,
      error,
    });
    outcomes = outcomes === '' ? text : outcomes + ',' + text;
  }
  return outcomes;
}

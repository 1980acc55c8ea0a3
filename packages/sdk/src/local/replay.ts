/**
 * Replay: one task of a job on the grid, run again here, in a local worker thread, with the
 * job's program, args and that task's input as the server stored them, its Setup before and
 * Teardown after, once (no retries). For finding out why a task failed: its error's stack
 * points at the program's own lines (`job.js:<line>`), and its console lines come back too.
 */
import { fromSocketForm, socketFormToJson } from '@tabgrid/protocol/bytes';
import type { TaskErrorType } from '@tabgrid/protocol/jobs';
import type { WorkerFailure } from '@tabgrid/protocol/worker';
import { transportOf } from '../transport.js';
import type { RunLine } from './run-once.js';

/** What the replayed task did: its value, or its error; and its console lines. */
export type ReplayResult =
  | { ok: true; value: unknown; ms: number; logs: RunLine[] }
  | {
      ok: false;
      error: { type: TaskErrorType; name: string; message: string; stack: string };
      ms: number;
      logs: RunLine[];
    };

function errorType(error: WorkerFailure): TaskErrorType {
  if (error.phase === 'setup') return 'setup';
  return error.timedOut ? 'timeout' : 'program';
}

/**
 * Reruns task `index` of job `jobId` locally and says what it did. Needs Node (worker threads);
 * the job may be running, done or cancelled. Not a sandbox: the program runs with your rights.
 *
 * @example
 * import { Tabgrid, replayTask } from '@tabgrid/sdk';
 * const tg = new Tabgrid();
 * const r = await replayTask(tg, jobId, 7);
 * if (!r.ok) console.error(r.error.stack); // "Error: bad pixel 7\n    at Run (job.js:3:11)"
 */
export async function replayTask(tg: object, jobId: string, index: number): Promise<ReplayResult> {
  const transport = transportOf(tg);
  const [info, task] = await Promise.all([
    transport.request('job:get', { jobId }, { retry: true }),
    transport.request('job:task', { jobId, index }, { retry: true }),
  ]);
  // As the server hands them to workers: JSON text with typed arrays in the text form.
  const args: unknown = JSON.parse(socketFormToJson(task.args));
  const job = {
    jobId,
    program: task.program,
    args,
    timeoutMs: info.timeoutMs,
    setupTimeoutMs: info.setupTimeoutMs ?? info.timeoutMs,
  };
  // Loaded on use: browser bundles of the SDK never carry the local runtime.
  const { runOnce } = await import('./run-once.js');
  const { outcome, logs } = await runOnce(job, index, socketFormToJson(task.input));
  if (outcome.ok) return { ok: true, value: fromSocketForm(outcome.value), ms: outcome.ms, logs };
  const { name, message, stack } = outcome.error;
  return {
    ok: false,
    error: { type: errorType(outcome.error), name, message, stack },
    ms: outcome.ms,
    logs,
  };
}

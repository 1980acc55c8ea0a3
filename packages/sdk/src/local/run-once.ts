/**
 * One task run once on a fresh local thread, with its job's Setup before and Teardown after:
 * what a replay does. No retries: the caller sees exactly what this run did.
 */
import { TASK_LIMITS } from '@tabgrid/protocol/task-reports';
import type { WorkerOutcome } from '@tabgrid/protocol/worker';
import { LocalThread, type ThreadJob } from './local-thread.js';
import { NodeThreads } from './node-threads.js';
import { SANDBOX_WORKER_SOURCE } from '@tabgrid/job-runtime/thread-source';
import { decodeOutcomes, decodeReports, type ThreadReport } from './thread-output.js';

/** One console line of the run (index null: Setup or Teardown). */
export interface RunLine {
  index: number | null;
  level: string;
  message: string;
  count: number;
}

export interface RunOnceResult {
  outcome: WorkerOutcome;
  logs: RunLine[];
}

function linesOf(reports: ThreadReport[]): RunLine[] {
  return reports.flatMap((r) =>
    (r.logs ?? []).map(({ level, message, count }) => ({ index: r.index, level, message, count })),
  );
}

/** An outcome the runner writes itself (the thread could not): flags as the page sets them. */
function made(
  job: ThreadJob,
  index: number,
  name: string,
  message: string,
  flags: { timedOut?: true; phase?: 'setup' } = {},
): WorkerOutcome {
  return {
    jobId: job.jobId,
    index,
    ms: 0,
    ok: false,
    error: { name, message, stack: '', ...flags },
  };
}

/** The error of a task whose outcome the protocol refused (too deep, a forged bytes tag…). */
export function undecodable(error: unknown): string {
  const why = error instanceof Error ? error.message : String(error);
  return `The task's result cannot be carried: ${why}`;
}

export function setupTimeoutMessage(job: ThreadJob): string {
  return `Setup did not finish within setupTimeoutMs (${job.setupTimeoutMs} ms)`;
}

export function runTimeoutMessage(job: ThreadJob): string {
  return `Run did not finish within ${job.timeoutMs} ms`;
}

/** Runs task `index` (its input as text-form JSON) of `job` once. */
export function runOnce(job: ThreadJob, index: number, inputJson: string): Promise<RunOnceResult> {
  const threads = new NodeThreads(SANDBOX_WORKER_SOURCE);
  const reports: ThreadReport[] = [];
  return new Promise<RunOnceResult>((resolve) => {
    let outcome: WorkerOutcome | undefined;
    const finish = (result: WorkerOutcome): void => {
      outcome ??= result;
      void thread.leave(TASK_LIMITS.teardownDeadlineMs).then(() => {
        threads.dispose();
        resolve({ outcome: outcome!, logs: linesOf(reports) });
      });
    };
    const thread: LocalThread = new LocalThread(threads.spawn(), {
      report: (tel) => {
        try {
          reports.push(...decodeReports(job.jobId, tel));
        } catch {
          // A report the protocol refuses is dropped, as the page drops it.
        }
      },
      setup: () => undefined,
      outcomes: (text, tasks) => {
        try {
          outcome = decodeOutcomes(job.jobId, text, tasks.length)[0];
        } catch (error) {
          outcome = made(job, index, 'Error', undecodable(error));
        }
      },
      idle: () => finish(outcome ?? made(job, index, 'Error', 'the thread sent no outcome')),
      timedOut: (phase) =>
        finish(
          phase === 'setup'
            ? made(job, index, 'TimeoutError', setupTimeoutMessage(job), {
                timedOut: true,
                phase: 'setup',
              })
            : made(job, index, 'TimeoutError', runTimeoutMessage(job), { timedOut: true }),
        ),
      broken: (reason) => finish(made(job, index, 'Error', `the local thread broke: ${reason}`)),
    });
    thread.load(job, []);
    thread.run([{ index, inputJson }]);
  });
}

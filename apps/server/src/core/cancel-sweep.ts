/**
 * Cancelling a job settles every task it left unsettled as a `cancelled` error, so consumers
 * get one outcome per task whatever happens. A job may hold millions of tasks: they are read
 * from the store a page at a time and each page is durable before the next is read, so memory
 * stays flat and the event loop keeps serving everyone else meanwhile.
 */
import type { JobStore } from '../store/job-store.js';
import { cancelled } from './failures.js';
import type { JobRuntime, Settled } from './job-runtime.js';

/** Tasks settled per page. */
const SWEEP_PAGE = 2000;

export interface SweepDeps {
  store: JobStore;
  /** Records outcomes of the job (the scheduler's settle). */
  settle(outcomes: Settled[]): void;
  /** False once the job was deleted meanwhile: stop. */
  stillThere(): boolean;
}

export async function settleCancelled(job: JobRuntime, deps: SweepDeps): Promise<void> {
  const jobId = job.record.id;
  // Group commits are durable in issue order: once this write is, every outcome settled before
  // the cancel is too, so the store's unsettled tasks are exactly the ones to cancel.
  await deps.store.updateJob(job.record);
  let from = 0;
  while (deps.stillThere()) {
    const tasks = await deps.store.readQueued(jobId, from, SWEEP_PAGE);
    if (tasks.length === 0 || !deps.stillThere()) return;
    const outcomes: Settled[] = tasks.map((task) => ({
      index: task.index,
      ok: false,
      payload: JSON.stringify(cancelled(task.index)),
    }));
    deps.settle(outcomes);
    from = tasks[tasks.length - 1]!.index + 1;
    await deps.store.updateJob(job.record);
  }
}

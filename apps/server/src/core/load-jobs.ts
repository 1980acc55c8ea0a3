/**
 * A scheduler's start: every job in the store, loaded as it was left. Runnable jobs get their
 * queues back (leases held at a crash are simply queued again) with their tasks' failed tries,
 * a cancel sweep cut short goes on, and a `maxFailures` watch sees the failures stored before.
 */
import type { JobCode, JobRecord, JobStore } from '../store/job-store.js';
import { rewatchFailures } from './failure-watch.js';
import type { JobRuntime } from './job-runtime.js';

/** The scheduler, as far as loading needs it (the scheduler is one). */
export interface JobLoader {
  readonly feeds: { readonly messages: { load(job: JobRuntime): Promise<void> } };
  runtime(record: JobRecord, code?: JobCode): JobRuntime;
  adoptJob(job: JobRuntime): void;
  finish(job: JobRuntime): void;
  sweepCancelled(job: JobRuntime): void;
  stopJob(job: JobRuntime, reason: string): void;
}

export async function loadJobs(scheduler: JobLoader, store: JobStore): Promise<void> {
  for (const record of await store.listJobs()) {
    const runnable = record.state === 'open' || record.state === 'closed';
    const code = runnable ? await store.getJobCode(record.id) : undefined;
    const job = scheduler.runtime(record, code);
    if (job.queue) {
      for (const [index, tries] of await store.readTries(record.id)) {
        job.tries.restore(index, tries.attempts, tries.errorRetries);
      }
    }
    // Messages told so far go to every thread that loads the job (see DispatchPass).
    if (job.queue && record.messageSeq > 0) await scheduler.feeds.messages.load(job);
    scheduler.adoptJob(job);
    if (job.complete) scheduler.finish(job);
    // Cancelled while its unsettled tasks were being settled as `cancelled`: carry on.
    if (record.state === 'cancelled' && job.settled < record.total) scheduler.sweepCancelled(job);
    else if (job.watchingFailures && record.failed > 0) {
      // Its failures before the restart go through its maxFailures watch again.
      const reason = await rewatchFailures(job, store);
      if (reason !== undefined) scheduler.stopJob(job, reason);
    }
  }
}

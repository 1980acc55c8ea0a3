import type { JobRuntime } from './job-runtime.js';

/** The jobs, as the dispatcher, the stall check and the stats collector see them. */
export interface JobDirectory {
  /** Any job by id, whoever owns it (worker traffic is not on behalf of a caller). */
  findJob(jobId: string): JobRuntime | undefined;
  /** Jobs that may have tasks out or to dispatch. */
  runnableJobs(): JobRuntime[];
}

/**
 * The newest of `jobs` named `name` (by `created`; the later one on a tie), as
 * `tg.latestJob(name)` finds it. Every job the store holds is loaded, so memory has them all.
 */
export function latestByName(jobs: Iterable<JobRuntime>, name: string): JobRuntime | undefined {
  let latest: JobRuntime | undefined;
  for (const job of jobs) {
    if (job.record.name !== name) continue;
    if (!latest || job.record.created >= latest.record.created) latest = job;
  }
  return latest;
}

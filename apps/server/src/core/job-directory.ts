import type { JobRuntime } from './job-runtime.js';

/** The jobs, as the dispatcher, the stall check and the stats collector see them. */
export interface JobDirectory {
  /** Any job by id, whoever owns it (worker traffic is not on behalf of a caller). */
  findJob(jobId: string): JobRuntime | undefined;
  /** Jobs that may have tasks out or to dispatch. */
  runnableJobs(): JobRuntime[];
}

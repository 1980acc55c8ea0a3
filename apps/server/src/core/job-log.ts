import type { JobInfo } from '@tabgrid/protocol/jobs';
import type { Caller } from '../auth/caller.js';
import { consoleLog, errorDetails, type CoreLog } from './core-log.js';
import type { JobRuntime } from './job-runtime.js';

/**
 * A job's lifecycle lines (one per change of state, never per task): what its owner did (the
 * facade logs those) and what happened to it (the scheduler logs those).
 */
export class JobLog {
  readonly log: CoreLog;

  constructor(log?: CoreLog) {
    this.log = log ?? consoleLog;
  }

  /** The owner created, closed, cancelled, resumed or deleted the job. */
  acted(
    action: 'created' | 'closed' | 'cancelled' | 'resumed' | 'deleted',
    caller: Caller,
    info: Pick<JobInfo, 'id' | 'name' | 'state' | 'total' | 'finished' | 'failed'>,
  ): void {
    this.log.info(
      {
        job: info.id,
        name: info.name,
        by: caller.name,
        state: info.state,
        total: info.total,
        settled: info.finished + info.failed,
      },
      `job ${action}`,
    );
  }

  /** It finished while the server ran (not one loaded finished at start). */
  done(job: JobRuntime): void {
    const r = job.record;
    this.log.info(
      { job: r.id, name: r.name, total: r.total, finished: r.finished, failed: r.failed },
      'job done',
    );
  }

  stopped(job: JobRuntime, reason: string): void {
    this.log.warn({ job: job.record.id, name: job.record.name, reason }, 'job stopped');
  }

  sweepFailed(job: JobRuntime, err: unknown): void {
    this.log.error(
      { job: job.record.id, ...errorDetails(err) },
      'could not settle the tasks of a cancelled job',
    );
  }
}

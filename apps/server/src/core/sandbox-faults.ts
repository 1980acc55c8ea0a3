import type { JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import type { DeliveryCounters } from './delivery-counters.js';
import type { SandboxFaults } from './dispatcher.js';
import type { JobRuntime } from './job-runtime.js';

/** Distinct worker identities whose reports of sandbox tampering pause a job. */
export const SANDBOX_FAULT_REPORTERS = 3;

/** Worker pages' reports of job code tampering with their sandbox (`fault` frames). */
export class SandboxFaultReports implements SandboxFaults {
  constructor(
    private readonly store: JobStore,
    private readonly counters: DeliveryCounters,
    private readonly clock: Clock,
  ) {}

  /**
   * A worker page caught `job`'s code tampering with its sandbox (its tasks there already failed
   * as `SandboxViolation`). Tabs of {@link SANDBOX_FAULT_REPORTERS} distinct identities saying
   * so pause the job: no single host can pause another tenant's job by claiming it.
   */
  sandboxFault(job: JobRuntime, identity: string, detail: string): void {
    const record = job.record;
    this.counters.count('sandboxFaults');
    // A repeat from one identity, or any report once paused, adds nothing (and no log line: a
    // worker may send these frames as fast as it likes).
    if (record.paused || !job.runnable) return;
    const reporters = job.addFaultReporter(identity);
    if (reporters === 0) return;
    console.error(
      `tabgrid: job ${record.id} (${record.name}): a worker page reports sandbox tampering: ${detail}`,
    );
    if (reporters < SANDBOX_FAULT_REPORTERS) return;
    job.pause(
      `Paused: the worker pages of ${reporters} volunteers caught this job's code tampering with its sandbox (what each saw is in the server log: a worker's words are not shown here). Fix the program, then resume or cancel the job.`,
      this.clock.now(),
    );
    console.error(`tabgrid: job ${record.id} (${record.name}) paused: ${record.paused}`);
    this.store.updateJob(record).catch((err: unknown) => {
      console.error(`tabgrid: could not save the pause of job ${record.id}:`, err);
    });
  }
}

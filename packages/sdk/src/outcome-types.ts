/** What a job's outcome streams yield and `job.submit()` resolves with. */
import type { Provenance, TaskFailure } from '@tabgrid/protocol/jobs';

/** A successful task, as `job.results()` yields it (`provenance` when asked for). */
export type TaskResult<T = unknown> = {
  index: number;
  value: T;
  seq: number;
  provenance?: Provenance;
};

/** A settled task, as `job.run()` yields it (`provenance` when asked for). */
export type TaskOutcome<T = unknown> =
  | { index: number; ok: true; value: T; seq: number; provenance?: Provenance }
  | { index: number; ok: false; error: TaskFailure; seq: number; provenance?: Provenance };

/**
 * Options of `job.run()`, `job.results()` and `job.errors()`. `provenance: true` gives each
 * outcome `provenance`: `{ workerId, attempt, runMs, queuedMs, programHash }` (see Provenance).
 */
export interface OutcomeOptions {
  provenance?: boolean;
}

/** What `job.submit()` resolves with: how many tasks were added, and the index of the first. */
export interface SubmitResult {
  count: number;
  firstIndex: number;
}

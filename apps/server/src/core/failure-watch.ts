/**
 * `maxFailures` (issue 14): a job whose first N settled tasks all fail with the same error is
 * broken, not unlucky, so the server stops it instead of running the rest. "The same error" is
 * the same failure type and the same message up to its numbers (the error views' grouping:
 * "bad pixel 7" and "bad pixel 57" are one), so a message naming its task still counts.
 *
 * The watch lives only while it can still fire: the first success or a different error ends it
 * for good, and from then on the settle path pays one undefined check per batch.
 */
import type { CarriedValue } from '@tabgrid/protocol/packed-value';
import { storedFailure } from '@tabgrid/protocol/stored';
import { errorGroupKey } from '../store/error-message.js';
import type { JobRecord, JobStore } from '../store/job-store.js';

/** Longest part of the error's message quoted in the reason. */
const MAX_QUOTED = 300;

/** The shape of what settles, as far as the watch reads it. */
export interface WatchedOutcome {
  readonly ok: boolean;
  /** A failure's TaskFailure JSON (read only while the watch is on). */
  readonly payload: CarriedValue;
}

/** The reason a job stopped by `maxFailures` shows (JobInfo.cancelReason, the end of its streams). */
export function stoppedReason(count: number, name: string, message: string): string {
  const quoted = message.length > MAX_QUOTED ? `${message.slice(0, MAX_QUOTED)}…` : message;
  return `stopped after ${count} tasks failed with the same error: ${name}: ${quoted}`;
}

export class FailureWatch {
  private count = 0;
  private key: string | undefined;
  private first: { name: string; message: string } | undefined;
  private over = false;

  constructor(readonly limit: number) {}

  /** False once it can no longer fire (a success, a different error, or it fired). */
  get watching(): boolean {
    return !this.over;
  }

  /**
   * Takes the next settled outcomes, in seq order. Returns the stop reason when they complete
   * `limit` failures with the same error (once), else undefined.
   */
  see(outcomes: Iterable<WatchedOutcome>): string | undefined {
    for (const o of outcomes) {
      if (this.over) return undefined;
      if (o.ok) {
        this.over = true;
        return undefined;
      }
      let name: string;
      let message: string;
      let type: string;
      try {
        ({ name, message, type } = storedFailure(o.payload));
      } catch {
        this.over = true; // not a failure we can compare: never stop on a guess
        return undefined;
      }
      const key = `${type}\u0000${errorGroupKey(message)}`;
      if (this.key === undefined) {
        this.key = key;
        this.first = { name, message };
      } else if (key !== this.key) {
        this.over = true;
        return undefined;
      }
      this.count++;
      if (this.count >= this.limit) {
        this.over = true;
        return stoppedReason(this.count, this.first!.name, this.first!.message);
      }
    }
    return undefined;
  }
}

/**
 * After a restart: the failures a watched job settled before it (none of its tasks succeeded
 * yet, so they are its first outcomes) go through its watch again; the reason when it fires.
 */
export async function rewatchFailures(
  job: {
    readonly record: Pick<JobRecord, 'id' | 'maxFailures'>;
    watchFailures(outcomes: Iterable<WatchedOutcome>): string | undefined;
  },
  store: Pick<JobStore, 'readOutcomes'>,
): Promise<string | undefined> {
  const limit = job.record.maxFailures ?? 0;
  if (limit === 0) return undefined;
  return job.watchFailures(await store.readOutcomes(job.record.id, 0, 'errors', limit));
}

import type { TaskErrorType } from '@tabgrid/protocol/jobs';
import { LatencyBuckets } from '../latency-buckets.js';

/** An outcome's type as the metrics count it: `result`, or the failure's error type. */
export type OutcomeType = 'result' | TaskErrorType | 'unknown';

const ERROR_TYPES: ReadonlySet<string> = new Set<TaskErrorType>([
  'program',
  'timeout',
  'lost',
  'validation',
  'cancelled',
  'setup',
]);
const TYPE_KEY = '"type":"';

/**
 * The `type` of a stored failure's JSON text (a TaskFailure's, written by the core with `type`
 * last), found without parsing it: in JSON text an unescaped `"type":"` is only ever a key.
 */
export function failureType(payload: string): OutcomeType {
  const at = payload.lastIndexOf(TYPE_KEY);
  if (at < 0) return 'unknown';
  const start = at + TYPE_KEY.length;
  const type = payload.slice(start, payload.indexOf('"', start));
  return ERROR_TYPES.has(type) ? (type as TaskErrorType) : 'unknown';
}

/**
 * What the settle path counts for operators (the metrics endpoint reads it): outcomes by type,
 * the time from submission to the settling attempt's dispatch, and from that dispatch to the
 * settle. Results are counted once per batch; only failures and the two latencies are per task.
 */
export class SettleCounts {
  results = 0;
  readonly errors = new Map<OutcomeType, number>();
  /** Submission → dispatch of the attempt that settled (tasks whose submission time is known). */
  readonly dispatchLatency = new LatencyBuckets();
  /** Dispatch → settle of the attempt that settled (tasks that ran on a worker). */
  readonly settleLatency = new LatencyBuckets();

  countFailure(payload: string): void {
    const type = failureType(payload);
    this.errors.set(type, (this.errors.get(type) ?? 0) + 1);
  }
}

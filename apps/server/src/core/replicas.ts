/**
 * The dispatcher's path for jobs with `redundancy` > 1 (see quorum.ts): dispatch to distinct
 * worker identities, count votes, strike the identities that disagree with an accepted quorum.
 */
import { toTextForm } from '@tabgrid/protocol/bytes';
import type { TaskFailure } from '@tabgrid/protocol/jobs';
import { packValue, type CarriedValue } from '@tabgrid/protocol/packed-value';
import type { WorkerOutcome } from '@tabgrid/protocol/worker';
import type { Lease } from '../leases/lease-table.js';
import type { StoredTask } from '../store/job-store.js';
import type { JobRuntime, Settled } from './job-runtime.js';
import { canonicalJson, type Quorum } from './quorum.js';
import type { Settlement } from './settlement.js';
import { unstorableResult } from './failures.js';

/** Takes up to `n` tasks of `job` for a worker of `identity`, never one that identity already ran. */
export function takeReplicas(
  job: JobRuntime,
  quorum: Quorum,
  identity: string,
  n: number,
): StoredTask[] {
  const queue = job.queue!;
  const taken = queue.take(n, (task) => !quorum.canRun(task.index, identity));
  const out: StoredTask[] = [];
  for (const task of taken) {
    if (!quorum.wanted(task.index)) continue; // enough replicas already out
    if (quorum.dispatched(task, identity)) queue.requeue(task);
    out.push(task);
  }
  return out;
}

/** A replica's answer as votes compare it (`canonical`) and as it would be stored (`payload`). */
function replicaAnswer(
  index: number,
  item: WorkerOutcome,
): { canonical: string; payload: CarriedValue } {
  try {
    return item.ok
      ? {
          // Typed arrays compare by their base64 (a redundancy job pays for it, no other).
          canonical: canonicalJson(toTextForm(item.value ?? null)),
          payload: packValue(item.value),
        }
      : {
          canonical: `error:${canonicalJson({ name: item.error.name, message: item.error.message })}`,
          payload: JSON.stringify({ ...item.error, timedOut: undefined, type: 'program' }),
        };
  } catch (err) {
    // Too deep to encode: every replica that returns it agrees on the same error.
    const failure = unstorableResult(index, err);
    return { canonical: `error:unstorable`, payload: JSON.stringify(failure) };
  }
}

/**
 * Counts the outcome of replica `lease` (its holder answered it); returns the task's settled
 * outcome once it is decided. `strike` is told each identity whose answer lost to the quorum.
 */
export function acceptReplica(
  settlement: Settlement,
  job: JobRuntime,
  quorum: Quorum,
  lease: Lease,
  item: WorkerOutcome,
  strike: (identity: string) => void,
): Settled | undefined {
  // Encoded before the replica is released: an answer that cannot be stored is still an answer.
  const timedOut = !item.ok && item.error.timedOut === true;
  const answer = timedOut ? undefined : replicaAnswer(item.index, item);
  settlement.release(lease, true);
  const identity = lease.grant.owner.identity;
  if (!answer) return settlement.loseReplica(job, identity, item.index, 'timeout');
  const ok = item.ok && !answer.canonical.startsWith('error:');
  const result = quorum.vote(item.index, identity, answer.canonical, ok, answer.payload);
  if (result.kind !== 'accepted' && result.firstDisagreement) job.noteDisagreement();
  switch (result.kind) {
    case 'accepted':
      for (const liar of result.liars) strike(liar);
      // Provenance: the replica whose answer completed the quorum.
      return { index: item.index, ok: result.ok, payload: result.payload, lease, runMs: item.ms };
    case 'exhausted': {
      const failure: TaskFailure = {
        name: 'ValidationError',
        message: `Task ${item.index}: no ${job.record.redundancy} of ${job.record.maxReplicas} replicas agreed on a result.`,
        stack: '',
        type: 'validation',
      };
      return {
        index: item.index,
        ok: false,
        payload: JSON.stringify(failure),
        lease,
        runMs: item.ms,
      };
    }
    case 'more': {
      const task = quorum.task(item.index);
      if (task) job.queue?.requeue(task);
      return undefined;
    }
    case 'waiting':
      return undefined;
  }
}

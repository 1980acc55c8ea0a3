/**
 * The dispatcher's path for jobs with `redundancy` > 1 (see quorum.ts): dispatch to distinct
 * worker identities, count votes, strike the identities that disagree with an accepted quorum.
 */
import type { TaskFailure } from '@tabgrid/protocol/jobs';
import type { WorkerOutcome } from '@tabgrid/protocol/worker';
import type { StoredTask } from '../store/job-store.js';
import type { JobRuntime, Settled } from './job-runtime.js';
import { canonicalJson, type Quorum, type ReplicaHold } from './quorum.js';
import type { Scheduler } from './scheduler.js';
import type { WorkerSession } from './worker-registry.js';
import { unstorableResult } from './failures.js';

export { MAX_STRIKES } from './worker-registry.js';

/** Takes up to `n` tasks of `job` for `worker`, never one its identity already ran; `hold` says when. */
export function takeReplicas(
  job: JobRuntime,
  quorum: Quorum,
  worker: WorkerSession,
  n: number,
  hold: ReplicaHold,
): StoredTask[] {
  const queue = job.queue!;
  const taken = queue.take(n, (task) => !quorum.canRun(task.index, worker.identity));
  const out: StoredTask[] = [];
  for (const task of taken) {
    if (!quorum.wanted(task.index)) continue; // enough replicas already out
    if (quorum.dispatched(task, worker.id, hold)) queue.requeue(task);
    out.push(task);
  }
  return out;
}

/** A replica's answer as votes compare it (`canonical`) and as it would be stored (`payload`). */
function replicaAnswer(index: number, item: WorkerOutcome): { canonical: string; payload: string } {
  try {
    return item.ok
      ? {
          canonical: canonicalJson(item.value ?? null),
          payload: JSON.stringify(item.value ?? null),
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
 * Counts one replica's outcome; returns the task's settled outcome once it is decided, or
 * 'forged' when this connection holds no replica of the task (nothing changes then).
 */
export function acceptReplica(
  scheduler: Scheduler,
  job: JobRuntime,
  quorum: Quorum,
  worker: WorkerSession,
  item: WorkerOutcome,
): Settled | undefined | 'forged' {
  if (!quorum.holds(item.index, worker.id)) return 'forged';
  // Encoded before the replica is released: an answer that cannot be stored is still an answer.
  const timedOut = !item.ok && item.error.timedOut === true;
  const answer = timedOut ? undefined : replicaAnswer(item.index, item);
  const hold = quorum.release(item.index, worker.id)!;
  worker.drop(job.record.id);
  worker.closeLease(hold.frame, true, Date.now());
  if (!answer) return loseReplica(scheduler, job, quorum, hold.identity, item.index, 'timeout');
  const ok = item.ok && !answer.canonical.startsWith('error:');
  const result = quorum.vote(item.index, hold.identity, answer.canonical, ok, answer.payload);
  if (result.kind !== 'accepted' && result.firstDisagreement) job.record.disagreements++;
  switch (result.kind) {
    case 'accepted':
      for (const liar of result.liars) {
        if (scheduler.workers.strike(liar)) scheduler.stats.excludedWorkers++;
      }
      return { index: item.index, ok: result.ok, payload: result.payload };
    case 'exhausted': {
      const failure: TaskFailure = {
        name: 'ValidationError',
        message: `Task ${item.index}: no ${job.record.redundancy} of ${job.record.maxReplicas} replicas agreed on a result.`,
        stack: '',
        type: 'validation',
      };
      return { index: item.index, ok: false, payload: JSON.stringify(failure) };
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

/** A replica will not answer: run it elsewhere, or settle it once losses reach the limit. */
export function loseReplica(
  scheduler: Scheduler,
  job: JobRuntime,
  quorum: Quorum,
  identity: string,
  index: number,
  type: 'lost' | 'timeout',
): Settled | undefined {
  const task = quorum.lost(index, identity, job.record.maxAttempts * job.record.maxReplicas);
  if (task) {
    job.queue?.requeue(task);
    return undefined;
  }
  const failure: TaskFailure = {
    name: type === 'timeout' ? 'TimeoutError' : 'LostError',
    message: `Task ${index}: its replicas were ${type === 'timeout' ? 'timed out' : 'lost'} too many times.`,
    stack: '',
    type,
  };
  return { index, ok: false, payload: JSON.stringify(failure) };
}

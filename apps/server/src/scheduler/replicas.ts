/**
 * The dispatcher's path for jobs with `redundancy` > 1 (see quorum.ts): dispatch to distinct
 * workers, count votes, strike the workers that disagree with an accepted quorum.
 */
import type { TaskFailure } from '@tabgrid/protocol/jobs';
import type { WorkerOutcome } from '@tabgrid/protocol/worker';
import type { StoredTask } from '../store/job-store.js';
import type { JobRuntime, Settled } from './job-runtime.js';
import { canonicalJson, type Quorum, type ReplicaHold } from './quorum.js';
import type { Scheduler } from './scheduler.js';
import type { WorkerSession } from './worker-registry.js';

/** A worker whose answers lost to an accepted quorum this many times gets no more tasks. */
export const MAX_STRIKES = 3;

/** Takes up to `n` tasks of `job` for `worker`, never one it already ran; `hold` says when. */
export function takeReplicas(
  job: JobRuntime,
  quorum: Quorum,
  worker: WorkerSession,
  n: number,
  hold: ReplicaHold,
): StoredTask[] {
  const queue = job.queue!;
  const taken = queue.take(n, (task) => !quorum.canRun(task.index, worker.id));
  const out: StoredTask[] = [];
  for (const task of taken) {
    if (!quorum.wanted(task.index)) continue; // enough replicas already out
    if (quorum.dispatched(task, worker.id, hold)) queue.requeue(task);
    out.push(task);
  }
  return out;
}

/** Counts one replica's outcome; returns the task's settled outcome once it is decided. */
export function acceptReplica(
  scheduler: Scheduler,
  job: JobRuntime,
  quorum: Quorum,
  worker: WorkerSession,
  item: WorkerOutcome,
): Settled | undefined | 'duplicate' {
  const hold = quorum.release(item.index, worker.id);
  if (!hold) return 'duplicate';
  worker.drop(job.record.id);
  worker.closeLease(hold.frame, true, Date.now());
  if (!item.ok && item.error.timedOut)
    return loseReplica(scheduler, job, quorum, worker.id, item.index, 'timeout');
  const canonical = item.ok
    ? canonicalJson(item.value ?? null)
    : `error:${canonicalJson({ name: item.error.name, message: item.error.message })}`;
  const payload = item.ok
    ? JSON.stringify(item.value ?? null)
    : JSON.stringify({ ...item.error, timedOut: undefined, type: 'program' });
  const result = quorum.vote(item.index, worker.id, canonical, item.ok, payload);
  if (result.kind !== 'accepted' && result.firstDisagreement) job.record.disagreements++;
  switch (result.kind) {
    case 'accepted':
      for (const liar of result.liars) strike(scheduler, liar);
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
  workerId: string,
  index: number,
  type: 'lost' | 'timeout',
): Settled | undefined {
  const task = quorum.lost(index, workerId, job.record.maxAttempts * job.record.maxReplicas);
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

function strike(scheduler: Scheduler, workerId: string): void {
  const worker = scheduler.workers.get(workerId);
  if (!worker) return;
  worker.strikes++;
  if (worker.strikes >= MAX_STRIKES && !worker.excluded) {
    worker.excluded = true;
    scheduler.stats.excludedWorkers++;
  }
}

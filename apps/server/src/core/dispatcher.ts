import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import { WorkerCloseCode, type WorkerToServer } from '@tabgrid/protocol/worker';
import type { StoredTask } from '../store/job-store.js';
import { unstorableResult } from './failures.js';
import { cancelFrame, jobFrame, tasksFrame, welcomeFrame } from './frames.js';
import { MAX_KEPT_CREDIT, clampMs, grow, initialWindow, room, shrink } from './hold-limit.js';
import type { JobRuntime, Lease, Settled } from './job-runtime.js';
import { acceptReplica, loseReplica, takeReplicas } from './replicas.js';

import type { Scheduler } from './scheduler.js';
import type { WorkerLink, WorkerRegistry, WorkerSession } from './worker-registry.js';

/** Most tasks in one frame: big enough to amortise framing, small enough to share work out. */
const MAX_TASKS_PER_FRAME = 1000;
/** A worker holding tasks that returns nothing for its longest timeout plus this is stuck. */
const STALL_GRACE_MS = 15_000;
const STALL_CHECK_MS = 1_000;
/**
 * Outcomes and hand-backs for tasks never leased to it after which a connection is closed. An
 * honest worker sends none (a late answer for a task taken back from it is not counted).
 */
export const MAX_FORGED = 100;

/** Records that `identity`'s tab dropped running task `index` alone; false if it had before. */
function firstCrashBy(job: JobRuntime, index: number, identity: string): boolean {
  const seen = job.crashedOn.get(index);
  if (seen?.has(identity)) return false;
  if (seen) seen.add(identity);
  else job.crashedOn.set(index, new Set([identity]));
  return true;
}

/**
 * Hands tasks to workers and takes their outcomes back. Credit-based: a worker is never sent
 * more tasks than it has free slots. Jobs are served by priority, round-robin among equal
 * priorities, FIFO inside a job. Every dispatched task holds a lease until it settles, and only
 * the connection holding a lease may settle or hand back its task.
 */
export class Dispatcher {
  private scheduled = false;
  private turn = 0;
  private readonly stallTimer: NodeJS.Timeout;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly workers: WorkerRegistry,
  ) {
    this.stallTimer = setInterval(() => this.closeStalledWorkers(), STALL_CHECK_MS);
    this.stallTimer.unref();
  }

  // ---- worker lifecycle ---------------------------------------------------------------

  connect(link: WorkerLink): WorkerSession {
    return this.workers.add(link, Date.now());
  }

  /** Applies one decoded message from a worker. */
  handle(worker: WorkerSession, msg: WorkerToServer): void {
    if (msg.type !== 'hello' && !worker.ready) {
      worker.link.close(WorkerCloseCode.PROTOCOL_ERROR, 'The first frame must be hello.');
      return;
    }
    switch (msg.type) {
      case 'hello':
        if (msg.protocol !== PROTOCOL_VERSION) {
          worker.link.close(
            WorkerCloseCode.VERSION_MISMATCH,
            `Protocol ${msg.protocol} is not supported (server speaks ${PROTOCOL_VERSION}): reload the page.`,
          );
          return;
        }
        if (worker.ready) {
          worker.link.close(WorkerCloseCode.PROTOCOL_ERROR, 'hello was sent twice.');
          return;
        }
        worker.ready = true;
        worker.threads = msg.threads;
        worker.userAgent = msg.userAgent;
        worker.credit = Math.min(MAX_KEPT_CREDIT, msg.credit);
        worker.link.send(welcomeFrame(worker.id));
        break;
      case 'credit':
        worker.credit = Math.min(MAX_KEPT_CREDIT, worker.credit + msg.slots);
        break;
      case 'outcomes':
        worker.credit = Math.min(MAX_KEPT_CREDIT, worker.credit + msg.credit);
        this.acceptOutcomes(worker, msg.items);
        break;
      case 'release':
        this.release(worker, msg.tasks);
        break;
      case 'fault': {
        // Only about a job this connection was given: anything else is a forgery.
        const job = this.scheduler.findJob(msg.jobId);
        if (job && worker.jobsSent.has(msg.jobId)) {
          this.scheduler.sandboxFault(job, worker.identity, msg.detail);
        } else {
          worker.forged++;
          this.scheduler.stats.forged++;
        }
        break;
      }
    }
    if (worker.forged > MAX_FORGED && worker.link.isOpen()) {
      worker.link.close(
        WorkerCloseCode.PROTOCOL_ERROR,
        `Closed: ${worker.forged} outcomes or hand-backs for tasks not leased to this connection.`,
      );
    }
    this.schedule();
  }

  /** Tasks handed back unrun (page hidden or closing): requeued, not an attempt. */
  private release(
    worker: WorkerSession,
    tasks: Extract<WorkerToServer, { type: 'release' }>['tasks'],
  ): void {
    const shrunk = new Set<string>();
    for (const { jobId, index } of tasks) {
      const job = this.scheduler.findJob(jobId);
      if (!job?.queue) continue; // finished or gone meanwhile
      if (job.quorum) {
        // A handed-back replica may run on another worker; it is not an attempt.
        const hold = job.quorum.release(index, worker.id);
        if (!hold) {
          this.notLeased(worker, jobId, index);
          continue;
        }
        worker.drop(jobId);
        worker.closeLease(hold.frame, false, Date.now());
        const task = job.quorum.lost(index, hold.identity, Infinity, false);
        if (task) job.queue.requeue(task);
      } else {
        const lease = job.leases.get(index);
        if (lease?.workerId !== worker.id) {
          this.notLeased(worker, jobId, index);
          continue;
        }
        const task = this.scheduler.takeLease(job, index, false)!;
        // A released suspect is still a suspect: it runs alone next time too.
        if (lease.suspect) job.suspects.set(index, task);
        else job.queue.requeue(task);
      }
      // Handing back costs the worker its share: one that keeps doing it is given less and less.
      if (!shrunk.has(jobId)) {
        shrunk.add(jobId);
        const share = worker.shares.get(jobId);
        if (share) shrink(share);
      }
    }
  }

  /** An outcome or hand-back for a task this connection does not hold: dropped and counted. */
  private notLeased(worker: WorkerSession, jobId: string, index: number): void {
    if (worker.hadTakenBack(jobId, index)) {
      this.scheduler.stats.duplicates++; // a late answer for a task taken back from it
      return;
    }
    worker.forged++;
    this.scheduler.stats.forged++;
  }

  /**
   * The worker is gone. A task it held alone is charged a lost attempt (a crash, maybe its
   * own); tasks it held with others become suspects, each of which runs alone next, uncharged.
   */
  disconnect(worker: WorkerSession): void {
    this.workers.remove(worker.id);
    const alone = worker.inFlight === 1;
    for (const job of this.scheduler.runnableJobs()) {
      const lost: Settled[] = [];
      for (const index of job.quorum?.releaseAll(worker.id) ?? []) {
        const failed = loseReplica(
          this.scheduler,
          job,
          job.quorum!,
          worker.identity,
          index,
          'lost',
        );
        if (failed) lost.push(failed);
      }
      for (const [index, lease] of job.leases) {
        if (lease.workerId !== worker.id) continue;
        const task = this.scheduler.takeLease(job, index, false)!;
        if (!alone || !firstCrashBy(job, index, worker.identity)) {
          job.suspects.set(index, task);
          continue;
        }
        const failed = this.scheduler.failAttempt(
          job,
          task,
          'crash',
          'its tab crashed or disconnected while running it alone.',
          // It stays a suspect: it runs alone again, so its next loss is charged too.
          (again) => job.suspects.set(again.index, again),
        );
        if (failed) lost.push(failed);
      }
      this.scheduler.settle(job, lost, 0);
    }
    this.schedule();
  }

  /** Takes back the leases `lost` picks, each a failed attempt; returns those that settle. */
  private loseLeases(job: JobRuntime, lost: (lease: Lease) => boolean, detail: string): Settled[] {
    const settled: Settled[] = [];
    for (const [index, lease] of job.leases) {
      if (!lost(lease)) continue;
      this.workers.get(lease.workerId)?.tookBack(job.record.id, index);
      this.scheduler.takeLease(job, index, false);
      const failed = this.scheduler.failAttempt(job, lease.task, 'lost', detail);
      if (failed) settled.push(failed);
    }
    return settled;
  }

  private acceptOutcomes(
    worker: WorkerSession,
    items: Extract<WorkerToServer, { type: 'outcomes' }>['items'],
  ): void {
    const byJob = new Map<JobRuntime, { outcomes: Settled[]; ms: number; answered: number }>();
    for (const item of items) {
      const job = this.scheduler.findJob(item.jobId);
      if (!job?.queue) {
        // A finished job's task settled already; a cancelled or deleted job wants nothing more.
        if (job?.record.state === 'done') this.scheduler.stats.duplicates++;
        else this.scheduler.stats.dropped++;
        continue;
      }
      // Only the connection holding the lease may answer; anything else changes nothing.
      const lease = job.quorum ? undefined : job.leases.get(item.index);
      if (!job.quorum && lease?.workerId !== worker.id) {
        this.notLeased(worker, item.jobId, item.index);
        continue;
      }
      let batch = byJob.get(job);
      if (!batch) byJob.set(job, (batch = { outcomes: [], ms: 0, answered: 0 }));
      const ms = clampMs(item.ms, job.record.timeoutMs);
      if (job.quorum) {
        const settled = acceptReplica(this.scheduler, job, job.quorum, worker, item);
        if (settled === 'forged') {
          this.notLeased(worker, item.jobId, item.index);
          continue;
        }
        if (settled) batch.outcomes.push(settled);
        batch.ms += ms;
        batch.answered++;
        job.durations.add(ms);
        worker.tasksDone++;
        continue;
      }
      // Encoded before the lease is touched: a value that cannot be stored fails its task.
      let payload: string | undefined;
      let unstorable: unknown;
      if (item.ok) {
        try {
          payload = JSON.stringify(item.value ?? null);
        } catch (err) {
          unstorable = err;
        }
      }
      const task = this.scheduler.takeLease(job, item.index, true)!;
      batch.ms += ms;
      batch.answered++;
      job.durations.add(ms);
      worker.tasksDone++;
      if (item.ok && payload !== undefined) {
        batch.outcomes.push({ index: item.index, ok: true, payload, value: item.value ?? null });
      } else if (item.ok) {
        const { name, message, stack } = unstorableResult(item.index, unstorable);
        const failed = this.scheduler.programError(job, task, { name, message, stack });
        if (failed) batch.outcomes.push(failed);
      } else if (item.error.timedOut) {
        const failed = this.scheduler.failAttempt(job, task, 'timeout', item.error.message);
        if (failed) batch.outcomes.push(failed);
      } else {
        const { name, message, stack } = item.error;
        const failed = this.scheduler.programError(job, task, { name, message, stack });
        if (failed) batch.outcomes.push(failed);
      }
    }
    for (const [job, batch] of byJob) {
      // Liveness and a bigger share come only from answers to tasks this worker held.
      if (batch.answered === 0) continue;
      worker.lastProgressAt = Date.now();
      const share = worker.shares.get(job.record.id);
      if (share) grow(share, batch.answered);
      this.scheduler.settle(job, batch.outcomes, batch.ms);
    }
  }

  /**
   * Two safety nets, checked every second. A lease (or a replica of a redundancy job) whose
   * worker has since answered tasks of a later frame, while nothing of its own frame came back
   * for its job's timeout plus a grace, was swallowed: it goes back to the queue (a lost
   * attempt). And a worker that holds tasks but returns nothing for them for the longest
   * timeout of the jobs it holds, plus that grace, is closed.
   */
  private closeStalledWorkers(): void {
    const now = Date.now();
    for (const job of this.scheduler.runnableJobs()) {
      const limit = job.record.timeoutMs + STALL_GRACE_MS;
      const swallowed = (workerId: string, frame: number, at: number) => {
        const worker = this.workers.get(workerId);
        const open = worker?.openFrames.get(frame);
        return (
          now - at > limit &&
          worker !== undefined &&
          open !== undefined &&
          worker.answeredFrame > frame &&
          now - open.answeredAt > limit
        );
      };
      const lost = this.loseLeases(
        job,
        (lease) => swallowed(lease.workerId, lease.frame, lease.at),
        'the worker answered later tasks but never this one.',
      );
      const quorum = job.quorum;
      if (quorum) {
        const replicas = quorum.releaseWhere((id, hold) => swallowed(id, hold.frame, hold.at));
        for (const { workerId, index, hold } of replicas) {
          const worker = this.workers.get(workerId);
          worker?.drop(job.record.id);
          worker?.closeLease(hold.frame, false, now);
          worker?.tookBack(job.record.id, index);
          const failed = loseReplica(this.scheduler, job, quorum, hold.identity, index, 'lost');
          if (failed) lost.push(failed);
        }
      }
      this.scheduler.settle(job, lost, 0);
    }
    this.schedule();

    for (const worker of this.workers.all()) {
      if (worker.inFlight === 0) {
        worker.lastProgressAt = now;
        continue;
      }
      let longest = 0;
      for (const [jobId, share] of worker.shares) {
        if (share.held > 0)
          longest = Math.max(longest, this.scheduler.findJob(jobId)?.record.timeoutMs ?? 0);
      }
      if (now - worker.lastProgressAt > longest + STALL_GRACE_MS) {
        worker.link.close(
          WorkerCloseCode.TIMEOUT,
          'No task finished for longer than the job timeout: tasks were handed to other workers.',
        );
      }
    }
  }

  // ---- dispatch -----------------------------------------------------------------------

  /** Runs a dispatch pass soon; calls within one turn of the event loop share one pass. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  /** A dispatch pass right now (after a submission commits: rare, and latency counts). */
  dispatchNow(): void {
    this.dispatch();
  }

  private dispatch(): void {
    const jobs = this.scheduler
      .runnableJobs()
      .sort((a, b) => b.record.priority - a.record.priority);
    for (const job of jobs) {
      if (job.queue?.wantsPage) void job.queue.pageIn().then(() => this.schedule());
    }
    for (const worker of this.workers.all()) {
      const tried = new Set<JobRuntime>();
      // Set once the worker's own window (not the job's limit) stops it at some priority: it is
      // still earning trust, and lower priorities do not get its spare credit meanwhile.
      let floor = -Infinity;
      const draining = this.drainingJob(worker);
      while (
        worker.ready &&
        !worker.excluded &&
        worker.suspect === undefined &&
        worker.credit > 0 &&
        worker.link.isOpen()
      ) {
        // A worker draining for a job's suspects gets nothing until it is idle, then a suspect.
        if (draining && worker.inFlight > 0) break;
        const job = draining ?? this.nextJob(jobs, tried, floor);
        if (!job?.queue || !job.code) break;
        const share = worker.share(job.record.id, initialWindow(worker));
        const frame = worker.frames + 1;
        const at = Date.now();
        let tasks: StoredTask[];
        const suspect = job.suspects.size > 0 && !job.quorum;
        if (suspect && worker.inFlight > 0) {
          // Busy workers are refilled at once and never idle: one of them drains (gets nothing
          // more) so the suspects do not wait for the whole queue to empty.
          if (job.drainer === undefined || !this.workers.get(job.drainer)) {
            job.drainer = worker.id;
            worker.draining = job.record.id;
            break;
          }
        }
        if (suspect && worker.inFlight === 0) {
          // A task that was on a crashed tab runs alone: this worker gets nothing else meanwhile.
          const [index, task] = job.suspects.entries().next().value!;
          job.suspects.delete(index);
          worker.suspect = { jobId: job.record.id, index };
          if (job.suspects.size === 0) this.stopDraining(job);
          tasks = [task];
        } else {
          const free = room(job, worker, share);
          if (free <= 0) {
            tried.add(job); // this worker holds its share of the job; others may be next in line
            if (share.held >= share.window) floor = job.record.priority;
            continue;
          }
          const n = Math.min(worker.credit, MAX_TASKS_PER_FRAME, free);
          tasks = job.quorum
            ? takeReplicas(job, job.quorum, worker, n, { frame, at, identity: worker.identity })
            : job.queue.take(n);
        }
        if (tasks.length === 0) {
          tried.add(job); // everything queued there already ran on this worker
          continue;
        }
        if (!worker.jobsSent.has(job.record.id)) {
          worker.link.send(jobFrame(job.record.id, job.code, job.record.timeoutMs));
          worker.jobsSent.add(job.record.id);
        }
        worker.link.send(tasksFrame(job.record.id, tasks));
        worker.frames = frame;
        worker.openFrames.set(frame, { outstanding: tasks.length, answeredAt: at });
        if (!job.quorum) {
          for (const task of tasks)
            job.leases.set(task.index, {
              task,
              workerId: worker.id,
              frame,
              at,
              suspect: worker.suspect !== undefined,
            });
        }
        worker.credit -= tasks.length;
        worker.currentJob = job.record.id;
        worker.hold(share, tasks.length);
        if (job.queue.wantsPage) void job.queue.pageIn().then(() => this.schedule());
      }
    }
  }

  /** The job `worker` drains for, if it still has suspects to run; else it stops draining. */
  private drainingJob(worker: WorkerSession): JobRuntime | undefined {
    if (worker.draining === undefined) return undefined;
    const job = this.scheduler.findJob(worker.draining);
    if (job && job.suspects.size > 0 && job.dispatchable && job.drainer === worker.id) return job;
    worker.draining = undefined;
    if (job?.drainer === worker.id) job.drainer = undefined;
    return undefined;
  }

  private stopDraining(job: JobRuntime): void {
    const drainer = job.drainer === undefined ? undefined : this.workers.get(job.drainer);
    if (drainer?.draining === job.record.id) drainer.draining = undefined;
    job.drainer = undefined;
  }

  /** Highest priority first; among jobs of that priority, the next one in rotation. */
  private nextJob(
    jobs: JobRuntime[],
    skip: Set<JobRuntime>,
    floor: number,
  ): JobRuntime | undefined {
    const ready = jobs.filter(
      (job) =>
        job.waiting > 0 && job.dispatchable && job.record.priority >= floor && !skip.has(job),
    );
    const top = ready[0]?.record.priority;
    const group = ready.filter((job) => job.record.priority === top);
    if (group.length === 0) return undefined;
    return group[this.turn++ % group.length];
  }

  /** The job stopped running: workers that have its program drop its queued tasks. */
  forgetJob(jobId: string): void {
    for (const worker of this.workers.all()) {
      if (worker.currentJob === jobId) worker.currentJob = null;
      worker.forgetJob(jobId);
      if (worker.suspect?.jobId === jobId) worker.suspect = undefined;
      if (worker.draining === jobId) worker.draining = undefined;
      if (worker.jobsSent.delete(jobId)) worker.link.send(cancelFrame(jobId));
    }
  }

  stop(): void {
    clearInterval(this.stallTimer);
  }
}

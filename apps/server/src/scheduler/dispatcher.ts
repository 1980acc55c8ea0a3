import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import { WorkerCloseCode, type WorkerToServer } from '@tabgrid/protocol/worker';
import { cancelFrame, jobFrame, tasksFrame, welcomeFrame } from './frames.js';
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
 * Work a worker may hold per thread, by the job's measured task time: enough to keep its
 * threads busy across a round trip, little enough that slow tasks spread across workers
 * instead of piling up on whichever worker has the most credit.
 */
const HELD_MS_PER_THREAD = 250;
/** Tasks per thread a worker may hold of a job none of whose tasks has been timed yet. */
const UNTIMED_TASKS_PER_THREAD = 2;

/**
 * How many tasks of `job` a worker with `threads` threads may hold. Credit says what the
 * worker can take; this says what is fair to give it. Tiny tasks are not limited in practice;
 * a job's first tasks are, until its first outcomes tell how long they take.
 */
export function holdLimit(job: JobRuntime, threads: number): number {
  const perThread = Math.max(1, threads);
  const timed = job.record.finished + job.record.failed;
  if (timed === 0) return perThread * UNTIMED_TASKS_PER_THREAD;
  const avgMs = Math.max(job.record.computeMs / timed, 1e-3);
  return perThread * Math.max(2, Math.ceil(HELD_MS_PER_THREAD / avgMs));
}

/**
 * Hands tasks to workers and takes their outcomes back. Credit-based: a worker is never sent
 * more tasks than it has free slots. Jobs are served by priority, round-robin among equal
 * priorities, FIFO inside a job. Every dispatched task holds a lease until it settles.
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
        worker.credit = msg.credit;
        worker.link.send(welcomeFrame(worker.id));
        break;
      case 'credit':
        worker.credit += msg.slots;
        break;
      case 'outcomes':
        worker.credit += msg.credit;
        worker.lastProgressAt = Date.now();
        this.acceptOutcomes(worker, msg.items);
        break;
      case 'release':
        for (const { jobId, index } of msg.tasks) {
          const job = this.scheduler.findJob(jobId);
          if (job?.quorum) {
            // A handed-back replica may run on another worker; it is not an attempt.
            const hold = job.quorum.release(index, worker.id);
            if (!hold) continue;
            worker.drop(jobId);
            worker.closeLease(hold.frame, false, Date.now());
            const task = job.quorum.lost(index, worker.id, Infinity);
            if (task) job.queue?.requeue(task);
            continue;
          }
          const lease = job?.leases.get(index);
          if (job && lease?.workerId === worker.id) {
            this.scheduler.claim(job, index);
            job.queue?.requeue(lease.task);
          }
        }
        break;
    }
    this.schedule();
  }

  /** The worker is gone: every task it held goes back to the queue, attempt counted. */
  disconnect(worker: WorkerSession): void {
    this.workers.remove(worker.id);
    for (const job of this.scheduler.runnableJobs()) {
      const lost: Settled[] = [];
      for (const index of job.quorum?.releaseAll(worker.id) ?? []) {
        const failed = loseReplica(this.scheduler, job, job.quorum!, worker.id, index, 'lost');
        if (failed) lost.push(failed);
      }
      lost.push(
        ...this.loseLeases(
          job,
          (lease) => lease.workerId === worker.id,
          'the worker running it disconnected.',
        ),
      );
      this.scheduler.settle(job, lost, 0);
    }
    this.schedule();
  }

  /** Takes back the leases `lost` picks, each a failed attempt; returns those that settle. */
  private loseLeases(job: JobRuntime, lost: (lease: Lease) => boolean, detail: string): Settled[] {
    const settled: Settled[] = [];
    for (const [index, lease] of job.leases) {
      if (!lost(lease)) continue;
      this.scheduler.claim(job, index);
      const failed = this.scheduler.failAttempt(job, lease.task, 'lost', detail);
      if (failed) settled.push(failed);
    }
    return settled;
  }

  private acceptOutcomes(
    worker: WorkerSession,
    items: Extract<WorkerToServer, { type: 'outcomes' }>['items'],
  ): void {
    const byJob = new Map<JobRuntime, { outcomes: Settled[]; ms: number }>();
    for (const item of items) {
      const job = this.scheduler.findJob(item.jobId);
      if (!job?.queue) {
        // A finished job's task settled already; a cancelled or deleted job wants nothing more.
        if (job?.record.state === 'done') this.scheduler.stats.duplicates++;
        else this.scheduler.stats.dropped++;
        continue;
      }
      let batch = byJob.get(job);
      if (!batch) byJob.set(job, (batch = { outcomes: [], ms: 0 }));
      if (job.quorum) {
        const settled = acceptReplica(this.scheduler, job, job.quorum, worker, item);
        if (settled === 'duplicate') {
          this.scheduler.stats.duplicates++;
          continue;
        }
        if (settled) batch.outcomes.push(settled);
        batch.ms += item.ms;
        job.durations.add(item.ms);
        worker.tasksDone++;
        continue;
      }
      const task = this.scheduler.claim(job, item.index, worker.id);
      if (!task) {
        this.scheduler.stats.duplicates++;
        continue;
      }
      batch.ms += item.ms;
      job.durations.add(item.ms);
      worker.tasksDone++;
      if (item.ok) {
        const value = item.value ?? null;
        batch.outcomes.push({ index: item.index, ok: true, payload: JSON.stringify(value), value });
      } else if (item.error.timedOut) {
        const failed = this.scheduler.failAttempt(job, task, 'timeout', item.error.message);
        if (failed) batch.outcomes.push(failed);
      } else {
        const { name, message, stack } = item.error;
        const failed = this.scheduler.programError(job, task, { name, message, stack });
        if (failed) batch.outcomes.push(failed);
      }
    }
    for (const [job, batch] of byJob) this.scheduler.settle(job, batch.outcomes, batch.ms);
  }

  /**
   * Two safety nets, checked every second. A lease (or a replica of a redundancy job) whose
   * worker has since answered tasks of a later frame, while nothing of its own frame came back
   * for its job's timeout plus a grace, was swallowed: it goes back to the queue (a lost
   * attempt). And a worker that holds tasks but returns nothing at all for that long is closed.
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
          const failed = loseReplica(this.scheduler, job, quorum, workerId, index, 'lost');
          if (failed) lost.push(failed);
        }
      }
      this.scheduler.settle(job, lost, 0);
    }
    this.schedule();

    const timeouts = new Map(
      this.scheduler.runnableJobs().map((job) => [job.record.id, job.record.timeoutMs]),
    );
    const longest = Math.max(0, ...timeouts.values());
    for (const worker of this.workers.all()) {
      if (worker.inFlight === 0) worker.lastProgressAt = now;
      else if (now - worker.lastProgressAt > longest + STALL_GRACE_MS) {
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
      while (worker.ready && !worker.excluded && worker.credit > 0 && worker.link.isOpen()) {
        const job = this.nextJob(jobs, tried);
        if (!job?.queue || !job.code) break;
        const room = holdLimit(job, worker.threads) - worker.holding(job.record.id);
        if (room <= 0) {
          tried.add(job); // this worker holds its share of the job; others may be next in line
          continue;
        }
        const n = Math.min(worker.credit, MAX_TASKS_PER_FRAME, room);
        const frame = worker.frames + 1;
        const at = Date.now();
        const tasks = job.quorum
          ? takeReplicas(job, job.quorum, worker, n, { frame, at })
          : job.queue.take(n);
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
            job.leases.set(task.index, { task, workerId: worker.id, frame, at });
        }
        worker.credit -= tasks.length;
        worker.currentJob = job.record.id;
        worker.hold(job.record.id, tasks.length);
        if (job.queue.wantsPage) void job.queue.pageIn().then(() => this.schedule());
      }
    }
  }

  /** Highest priority first; among jobs of that priority, the next one in rotation. */
  private nextJob(jobs: JobRuntime[], skip: Set<JobRuntime>): JobRuntime | undefined {
    const ready = jobs.filter((job) => (job.queue?.size ?? 0) > 0 && !skip.has(job));
    const top = ready[0]?.record.priority;
    const group = ready.filter((job) => job.record.priority === top);
    if (group.length === 0) return undefined;
    return group[this.turn++ % group.length];
  }

  /** The job stopped running: workers that have its program drop its queued tasks. */
  forgetJob(jobId: string): void {
    for (const worker of this.workers.all()) {
      if (worker.currentJob === jobId) worker.currentJob = null;
      if (worker.jobsSent.delete(jobId)) worker.link.send(cancelFrame(jobId));
    }
  }

  stop(): void {
    clearInterval(this.stallTimer);
  }
}

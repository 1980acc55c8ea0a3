/**
 * Hands tasks to workers. Credit-based: a worker is never sent more tasks than it has free
 * slots. Jobs are served by priority, round-robin among equal priorities, FIFO inside a job.
 * Every task sent holds a lease (granted here, in the lease table) until it settles.
 */
import type { LeaseTable } from '../leases/lease-table.js';
import type { StoredTask } from '../store/job-store.js';
import type { Clock } from './clock.js';
import { cancelFrame, jobFrame, messagesFrame, tasksFrames, type CancelReason } from './frames.js';
import { initialWindow, room } from './hold-limit.js';
import type { JobDirectory } from './job-directory.js';
import type { JobRuntime } from './job-runtime.js';
import { takeReplicas } from './replicas.js';
import { meetsRequirements, unservableReason } from './requirements-check.js';
import type { WorkerRegistry, WorkerSession } from './worker-registry.js';

/** Most tasks in one frame: big enough to amortise framing, small enough to share work out. */
const MAX_TASKS_PER_FRAME = 1000;
/**
 * A lease whose frame saw no answer for its job's timeout plus this, while its worker answered
 * later frames, was swallowed (see LeaseTable.takeBackExpired); the stall check uses it too.
 */
export const STALL_GRACE_MS = 15_000;

/** The one-kind-per-call lease kinds (no object per dispatch). */
const EXCLUSIVE = { replica: false, suspect: false } as const;
const REPLICA = { replica: true, suspect: false } as const;
const SUSPECT = { replica: false, suspect: true } as const;

export class DispatchPass {
  private scheduled = false;
  private turn = 0;
  /** A worker said hello or left since jobs last checked who can serve them. */
  private workersDirty = true;

  constructor(
    private readonly jobs: JobDirectory,
    private readonly workers: WorkerRegistry,
    private readonly leases: LeaseTable,
    private readonly clock: Clock,
  ) {}

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
    const jobs = this.jobs.runnableJobs().sort((a, b) => b.record.priority - a.record.priority);
    for (const job of jobs) {
      if (job.queue?.wantsPage) void job.queue.pageIn().then(() => this.schedule());
    }
    this.checkServable(jobs);
    for (const worker of this.workers.all()) {
      const tried = new Set<JobRuntime>();
      // Set once the worker's own window (not the job's limit) stops it at some priority: it is
      // still earning trust, and lower priorities do not get its spare credit meanwhile.
      let floor = -Infinity;
      const draining = this.drainingJob(worker);
      while (
        worker.ready &&
        !worker.excluded &&
        !worker.runningSuspect &&
        worker.credit > 0 &&
        worker.link.isOpen()
      ) {
        // A worker draining for a job's suspects gets nothing until it is idle, then a suspect.
        if (draining && worker.inFlight > 0) break;
        const job = draining ?? this.nextJob(jobs, tried, floor);
        if (!job?.queue || !job.code) break;
        if (
          worker.setupFailed.size !== 0 &&
          this.workers.skipsSetupFailed(worker, job.record.id, job.record.requirements)
        ) {
          // Its Setup failed here: the job's tasks wait for a connection where it may not.
          tried.add(job);
          if (!draining) continue;
          this.stopDraining(job);
          break;
        }
        if (!meetsRequirements(job.record.requirements, worker.offer)) {
          // It does not offer what the job requires (WebGPU, threads, memory): others may.
          tried.add(job);
          if (!draining) continue;
          this.stopDraining(job);
          break;
        }
        const share = worker.share(job.record.id, initialWindow(worker));
        let tasks: StoredTask[];
        let kind: typeof EXCLUSIVE | typeof REPLICA | typeof SUSPECT = EXCLUSIVE;
        const suspect = job.suspects.size > 0 && !job.quorum;
        if (suspect && worker.inFlight > 0) {
          // Busy workers are refilled at once and never idle: one of them drains (gets nothing
          // more) so the suspects do not wait for the whole queue to empty.
          if (job.drainer === undefined || !this.workers.get(job.drainer)) {
            job.setDrainer(worker.id);
            worker.drainFor(job.record.id);
            break;
          }
        }
        if (suspect && worker.inFlight === 0) {
          // A task that was on a crashed tab runs alone: this worker gets nothing else meanwhile.
          const task = job.takeSuspect();
          if (job.suspects.size === 0) this.stopDraining(job);
          tasks = [task];
          kind = SUSPECT;
        } else {
          const free = room(job, worker, share);
          if (free <= 0) {
            tried.add(job); // this worker holds its share of the job; others may be next in line
            if (worker.leases.holding(job.record.id) >= share.window) floor = job.record.priority;
            continue;
          }
          const n = Math.min(worker.credit, MAX_TASKS_PER_FRAME, free);
          if (job.quorum) {
            tasks = takeReplicas(job, job.quorum, worker.identity, n);
            kind = REPLICA;
          } else tasks = job.queue.take(n);
        }
        if (tasks.length === 0) {
          tried.add(job); // everything queued there already ran on this worker
          continue;
        }
        if (!worker.hasProgram(job.record.id)) {
          const r = job.record;
          worker.link.send(
            jobFrame(
              r.id,
              job.code,
              r.timeoutMs,
              r.setupTimeoutMs,
              r.progressTimeoutMs,
              r.public,
              r.requirements,
            ),
          );
          worker.programSent(r.id);
          // The job's messages so far (job.tell), before its first task: Setup may read them.
          const told = job.feeds.messages;
          if (told.length > 0) worker.link.send(messagesFrame(r.id, told));
        }
        for (const frame of tasksFrames(job.record.id, tasks)) worker.link.send(frame);
        const ttl = job.record.timeoutMs + STALL_GRACE_MS;
        this.leases.grant(worker.leases, job.held, tasks, this.clock.now(), ttl, kind);
        worker.spendCredit(tasks.length, job.record.id);
        if (job.queue.wantsPage) void job.queue.pageIn().then(() => this.schedule());
      }
    }
  }

  /** The set of hello'd workers changed: jobs with requirements look again who can serve them. */
  workersChanged(): void {
    this.workersDirty = true;
  }

  /**
   * Jobs with requirements learn whether any connected worker meets them (their status says so
   * when none does). A job thought servable looks every pass (the scan stops at the first worker
   * that qualifies); one thought unservable (a full scan) only when the workers changed.
   */
  private checkServable(jobs: readonly JobRuntime[]): void {
    const changed = this.workersDirty;
    this.workersDirty = false;
    for (const job of jobs) {
      const requirements = job.record.requirements;
      if (requirements === undefined || job.waiting === 0) job.unservable = null;
      else if (changed || job.unservable === null) {
        job.unservable = unservableReason(requirements, this.workers.all());
      }
    }
  }

  /** The job `worker` drains for, if it still has suspects to run; else it stops draining. */
  private drainingJob(worker: WorkerSession): JobRuntime | undefined {
    if (worker.draining === undefined) return undefined;
    const job = this.jobs.findJob(worker.draining);
    if (job && job.suspects.size > 0 && job.dispatchable && job.drainer === worker.id) return job;
    worker.stopDraining();
    if (job?.drainer === worker.id) job.setDrainer(undefined);
    return undefined;
  }

  private stopDraining(job: JobRuntime): void {
    const drainer = job.drainer === undefined ? undefined : this.workers.get(job.drainer);
    if (drainer?.draining === job.record.id) drainer.stopDraining();
    job.setDrainer(undefined);
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

  /** The job stopped running (its leases are released): workers that have its program drop it (and tear its threads down). */
  forgetJob(jobId: string, reason: CancelReason): void {
    const now = this.clock.now();
    for (const worker of this.workers.all()) {
      if (worker.forgetJob(jobId, now)) worker.link.send(cancelFrame(jobId, reason));
    }
    this.workers.forgetSetupFailures(jobId);
  }
}

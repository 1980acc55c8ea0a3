/**
 * Three safety nets, checked every second. A lease (or a replica of a redundancy job) whose
 * worker has since answered tasks of a later frame, while nothing of its own frame came back
 * for its job's timeout plus a grace, was swallowed: the lease table takes it back and it
 * fails an attempt. A worker that holds tasks but returns nothing for them for the longest
 * timeout of the jobs it holds, plus that grace, is closed (its disconnect takes the rest back).
 * And a running task of a job with `progressTimeoutMs` that was heard from (started, or called
 * `progress()`) but then fell silent that long is stalled (DCP's ENOPROGRESS): its lease is
 * taken back and it fails a `lost` attempt, running elsewhere; its worker's late answer counts
 * as a duplicate. A task never heard from is left to the other nets and its `timeoutMs`.
 */
import { WorkerCloseCode } from '@tabgrid/protocol/worker';
import type { Lease, LeaseTable } from '../leases/lease-table.js';
import type { ProgressBoard } from './progress-board.js';
import type { Clock, TimerHandle } from './clock.js';
import { STALL_GRACE_MS } from './dispatch-pass.js';
import type { JobDirectory } from './job-directory.js';
import type { JobRuntime, Settled } from './job-runtime.js';
import type { Settlement } from './settlement.js';
import type { WorkerRegistry } from './worker-registry.js';

const STALL_CHECK_MS = 1_000;
const SWALLOWED = 'the worker answered later tasks but never this one.';

export class StallCheck {
  private readonly timer: TimerHandle;

  constructor(
    private readonly jobs: JobDirectory,
    private readonly workers: WorkerRegistry,
    private readonly leases: LeaseTable,
    private readonly settlement: Settlement,
    private readonly clock: Clock,
    /** Runs a dispatch pass soon (tasks went back to their queues). */
    private readonly schedule: () => void,
  ) {
    this.timer = clock.setInterval(() => this.check(), STALL_CHECK_MS);
  }

  /** Both nets, once (the timer calls it every second). */
  check(): void {
    const now = this.clock.now();
    const taken = this.leases.takeBackExpired(now);
    if (taken.length > 0) this.failSwallowed(taken);
    const board = this.settlement.board;
    if (board.size > 0) this.failSilent(board, now);
    this.schedule();

    for (const worker of this.workers.all()) {
      if (worker.inFlight === 0) {
        worker.noteProgress(now);
        continue;
      }
      let longest = 0;
      for (const [jobId, count] of worker.leases.byJob) {
        if (count.held > 0)
          longest = Math.max(longest, this.jobs.findJob(jobId)?.record.timeoutMs ?? 0);
      }
      if (now - worker.lastProgressAt > longest + STALL_GRACE_MS) {
        worker.link.close(
          WorkerCloseCode.TIMEOUT,
          'No task finished for longer than the job timeout: tasks were handed to other workers.',
        );
      }
    }
  }

  /** Each swallowed lease fails a lost attempt; those that settle are recorded per job. */
  private failSwallowed(taken: Lease[]): void {
    const settled = new Map<JobRuntime, Settled[]>();
    for (const lease of taken) {
      const job = this.jobs.findJob(lease.job.jobId);
      if (!job?.queue) continue;
      const failed = lease.replica
        ? this.settlement.loseReplica(job, lease.grant.owner.identity, lease.index, 'lost')
        : this.settlement.failAttempt(job, lease.task, 'lost', SWALLOWED, false, lease);
      let lost = settled.get(job);
      if (!lost) settled.set(job, (lost = []));
      if (failed) lost.push(failed);
    }
    for (const [job, lost] of settled) this.settlement.record(job, lost, 0);
  }

  /** Takes back the leases of tasks silent past their job's progressTimeoutMs (see above). */
  private failSilent(board: ProgressBoard, now: number): void {
    board.sweep(); // entries whose lease ended some other way go first
    const settled = new Map<JobRuntime, Settled[]>();
    for (const jobId of [...board.jobIds()]) {
      const job = this.jobs.findJob(jobId);
      const limit = job?.record.progressTimeoutMs;
      if (!job?.queue || limit === null || limit === undefined) continue;
      for (const { index, workerId, heardAt } of board.silentSince(jobId, now - limit)) {
        const lease = job.held.heldBy(index, workerId);
        board.drop(jobId, index);
        if (!lease) continue;
        this.leases.takeBack(lease, now);
        const detail = `ENOPROGRESS: task ${index} sent no progress() for ${now - heardAt} ms`;
        const failed = lease.replica
          ? this.settlement.loseReplica(job, lease.grant.owner.identity, index, 'lost')
          : this.settlement.failAttempt(job, lease.task, 'lost', detail, false, lease);
        let lost = settled.get(job);
        if (!lost) settled.set(job, (lost = []));
        if (failed) lost.push(failed);
      }
    }
    for (const [job, lost] of settled) this.settlement.record(job, lost, 0);
  }

  stop(): void {
    this.timer.cancel();
  }
}

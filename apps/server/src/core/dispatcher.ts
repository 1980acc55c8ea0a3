import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import { WorkerCloseCode, type WorkerToServer } from '@tabgrid/protocol/worker';
import type { OperatorInfo } from '@tabgrid/protocol/jobs';
import type { LeaseTable } from '../leases/lease-table.js';
import type { WorkerMonitor } from '../telemetry/worker-monitor.js';
import type { Clock } from './clock.js';
import type { DeliveryCounters } from './delivery-counters.js';
import { DispatchPass } from './dispatch-pass.js';
import { welcomeFrame } from './frames.js';
import { clampMs } from './hold-limit.js';
import type { JobDirectory } from './job-directory.js';
import type { JobRuntime, Settled } from './job-runtime.js';
import { acceptReplica } from './replicas.js';
import type { Settlement } from './settlement.js';
import { StallCheck } from './stall-check.js';
import type { TaskReports } from './task-reports.js';
import type { WorkerLink, WorkerRegistry, WorkerSession } from './worker-registry.js';

/**
 * Outcomes and hand-backs for tasks never leased to it after which a connection is closed. An
 * honest worker sends none (a late answer for a task taken back from it is not counted).
 */
export const MAX_FORGED = 100;

/** What the dispatcher needs besides the jobs: the worker pages' fault reports go here. */
export interface SandboxFaults {
  sandboxFault(job: JobRuntime, identity: string, detail: string): void;
}

export interface DispatcherDeps {
  jobs: JobDirectory;
  workers: WorkerRegistry;
  leases: LeaseTable;
  settlement: Settlement;
  counters: DeliveryCounters;
  faults: SandboxFaults;
  clock: Clock;
  /** The worker monitor: `sample` frames go there. */
  monitor: Pick<WorkerMonitor, 'sample'>;
  /** Progress, console lines, events and Setup times: `report` frames go there. */
  reports: Pick<TaskReports, 'accept' | 'unread'>;
  /** Who runs the grid (server configuration): every worker's welcome carries it. */
  operator?: OperatorInfo | undefined;
}

/** One batch of outcomes of one job from one frame of a worker. */
interface Batch {
  outcomes: Settled[];
  ms: number;
  answered: number;
}

/**
 * Worker traffic: connects workers, applies their messages, and takes their outcomes and
 * hand-backs to the one settlement path. Only the connection holding a lease may settle or
 * hand back its task. Dispatch itself is {@link DispatchPass}; the safety nets, {@link StallCheck}.
 */
export class Dispatcher {
  readonly pass: DispatchPass;
  private readonly stall: StallCheck;
  private readonly jobs: JobDirectory;
  private readonly workers: WorkerRegistry;
  private readonly settlement: Settlement;
  private readonly counters: DeliveryCounters;

  constructor(private readonly deps: DispatcherDeps) {
    this.jobs = deps.jobs;
    this.workers = deps.workers;
    this.settlement = deps.settlement;
    this.counters = deps.counters;
    this.pass = new DispatchPass(deps.jobs, deps.workers, deps.leases, deps.clock);
    this.stall = new StallCheck(
      deps.jobs,
      deps.workers,
      deps.leases,
      deps.settlement,
      deps.clock,
      () => this.pass.schedule(),
    );
  }

  /** Runs a dispatch pass soon. */
  schedule(): void {
    this.pass.schedule();
  }

  // ---- worker lifecycle ---------------------------------------------------------------

  connect(link: WorkerLink): WorkerSession {
    return this.workers.add(link, this.deps.clock.now());
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
        worker.welcome(msg);
        this.pass.workersChanged();
        worker.link.send(welcomeFrame(worker.id, this.deps.operator));
        break;
      case 'credit':
        worker.grantCredit(msg.slots);
        break;
      case 'outcomes':
        worker.grantCredit(msg.credit);
        this.acceptOutcomes(worker, msg.items);
        break;
      case 'release':
        this.release(worker, msg.tasks);
        break;
      case 'report':
        // Checked item by item against what this connection was given (see TaskReports).
        this.deps.reports.accept(worker, msg.items);
        this.closeIfForging(worker);
        return; // a report frees no slot: no dispatch pass
      case 'sample':
        // Checked against what this connection announced (threads) and was given (jobs).
        if (this.deps.monitor.sample(worker, msg) === 'forged') {
          worker.countForged();
          this.counters.count('forged');
        }
        break;
      case 'fault': {
        // Only about a job this connection was given: anything else is a forgery.
        const job = this.jobs.findJob(msg.jobId);
        if (job && worker.hasProgram(msg.jobId)) {
          this.deps.faults.sandboxFault(job, worker.identity, msg.detail);
        } else {
          worker.countForged();
          this.counters.count('forged');
        }
        break;
      }
    }
    this.closeIfForging(worker);
    this.schedule();
  }

  private closeIfForging(worker: WorkerSession): void {
    if (worker.forged > MAX_FORGED && worker.link.isOpen()) {
      worker.link.close(
        WorkerCloseCode.PROTOCOL_ERROR,
        `Closed: ${worker.forged} outcomes, hand-backs or reports for tasks or jobs not leased to this connection.`,
      );
    }
  }

  /** Tasks handed back unrun (page hidden or closing): requeued, not an attempt. */
  private release(
    worker: WorkerSession,
    tasks: Extract<WorkerToServer, { type: 'release' }>['tasks'],
  ): void {
    const shrunk = new Set<string>();
    for (const { jobId, index } of tasks) {
      const job = this.jobs.findJob(jobId);
      if (!job?.queue) continue; // finished or gone meanwhile
      const lease = job.held.heldBy(index, worker.id);
      if (!lease) {
        this.notLeased(worker, jobId, index);
        continue;
      }
      const task = this.settlement.release(lease, false);
      if (lease.replica) {
        // A handed-back replica may run on another worker; it is not an attempt.
        const again = job.quorum?.lost(index, worker.identity, Infinity, false);
        if (again) job.queue.requeue(again);
      } else if (lease.suspect) {
        job.suspect(task); // a released suspect is still a suspect: it runs alone next time too
      } else job.queue.requeue(task);
      // Handing back costs the worker its share: one that keeps doing it is given less and less.
      if (!shrunk.has(jobId)) {
        shrunk.add(jobId);
        worker.shareOf(jobId)?.shrink();
      }
    }
  }

  /** An outcome or hand-back for a task this connection does not hold: dropped and counted. */
  private notLeased(worker: WorkerSession, jobId: string, index: number): void {
    if (worker.leases.hadTakenBack(jobId, index)) {
      this.counters.count('duplicates'); // a late answer for a task taken back from it
      return;
    }
    worker.countForged();
    this.counters.count('forged');
  }

  /**
   * The worker is gone. A task it held alone is charged a lost attempt (a crash, maybe its
   * own); tasks it held with others become suspects, each of which runs alone next, uncharged.
   */
  /** A report frame of `worker` was dropped unread (see routes/report-budget.ts). */
  reportUnread(worker: WorkerSession): void {
    this.deps.reports.unread(worker);
  }

  disconnect(worker: WorkerSession): void {
    const alone = worker.inFlight === 1;
    const taken = this.workers.remove(worker);
    this.pass.workersChanged();
    const byJob = new Map<JobRuntime, Settled[]>();
    for (const lease of taken) {
      const job = this.jobs.findJob(lease.job.jobId);
      if (!job?.queue) continue;
      let lost = byJob.get(job);
      if (!lost) byJob.set(job, (lost = []));
      let failed: Settled | undefined;
      if (lease.replica) {
        failed = this.settlement.loseReplica(job, worker.identity, lease.index, 'lost');
      } else if (!alone || !job.tries.firstCrashBy(lease.index, worker.identity)) {
        job.suspect(lease.task);
      } else {
        failed = this.settlement.failAttempt(
          job,
          lease.task,
          'crash',
          'its tab crashed or disconnected while running it alone.',
          true, // it stays a suspect: it runs alone again, so its next loss is charged too
          lease,
        );
      }
      if (failed) lost.push(failed);
    }
    for (const [job, lost] of byJob) this.settlement.record(job, lost, 0);
    this.schedule();
  }

  private acceptOutcomes(
    worker: WorkerSession,
    items: Extract<WorkerToServer, { type: 'outcomes' }>['items'],
  ): void {
    const byJob = new Map<JobRuntime, Batch>();
    for (const item of items) {
      const job = this.jobs.findJob(item.jobId);
      if (!job?.queue) {
        // A finished job's task settled already; a cancelled or deleted job wants nothing more.
        this.counters.count(job?.record.state === 'done' ? 'duplicates' : 'dropped');
        continue;
      }
      // Only the connection holding the lease may answer; anything else changes nothing.
      const lease = job.held.heldBy(item.index, worker.id);
      if (!lease) {
        this.notLeased(worker, item.jobId, item.index);
        continue;
      }
      let batch = byJob.get(job);
      if (!batch) byJob.set(job, (batch = { outcomes: [], ms: 0, answered: 0 }));
      batch.answered++;
      if (!item.ok && item.error.phase === 'setup') {
        // Setup failed on its thread, so the task never ran (no compute time, not done): it runs
        // elsewhere, off this connection while another can take it.
        this.workers.setupFailed(worker, job.record.id);
        this.settlement.failSetup(job, lease, item.error, batch.outcomes);
        continue;
      }
      const ms = clampMs(item.ms, job.record.timeoutMs);
      batch.ms += ms;
      job.durations.add(ms);
      worker.countDone();
      if (lease.replica) {
        const settled = acceptReplica(this.settlement, job, job.quorum!, lease, item, this.strike);
        if (settled && item.series !== undefined)
          this.settlement.withSeries(job, settled, item.series);
        if (settled) batch.outcomes.push(settled);
      } else this.settlement.accept(job, lease, item, batch.outcomes);
    }
    for (const [job, batch] of byJob) {
      // Liveness and a bigger share come only from answers to tasks this worker held.
      if (batch.answered === 0) continue;
      worker.noteProgress(this.deps.clock.now());
      worker.shareOf(job.record.id)?.grow(batch.answered);
      this.settlement.record(job, batch.outcomes, batch.ms);
    }
  }

  /** An identity whose answer lost to an accepted quorum; too many strikes exclude it. */
  private readonly strike = (identity: string): void => {
    if (this.workers.strike(identity)) this.counters.count('excludedWorkers');
  };

  stop(): void {
    this.stall.stop();
  }
}

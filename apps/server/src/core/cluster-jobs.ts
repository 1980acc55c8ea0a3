/**
 * The scheduler's jobs when this node is one of several on one database (issue 15; the link is
 * ./cluster-link.ts). What differs from a node alone, in one place:
 *
 * - a job's queue here is fed by claims, sized by what this node's workers can take soon;
 * - a batch gets its indexes, and the job its counters and state, from the database; close and
 *   cancel are the database's transitions, announced to the other nodes;
 * - what the database says of a job (after this node's commits, or a sync) is applied here: a
 *   job another node created is loaded, one finished or cancelled elsewhere retires, one deleted
 *   elsewhere goes, and its streams read on from the store.
 */
import type { JobInfo } from '@tabgrid/protocol/jobs';
import type {
  CarriedValue,
  JobCode,
  JobRecord,
  JobStore,
  StoredOutcome,
  StoredSeriesLines,
  StoredTask,
} from '../store/job-store.js';
import type { Clock } from './clock.js';
import type { ClusterLink, JobTally } from './cluster-link.js';
import type { CancelReason } from './frames.js';
import type { BatchAck, JobRuntime, Settled } from './job-runtime.js';
import type { TaskClaimer } from './task-queue.js';

/** The fewest tasks a node claims at once (a claim is a few round trips). */
const MIN_CLAIM = 64;

/** The scheduler, as far as its jobs on several nodes need it (the scheduler is one). */
export interface ClusterJobsHost {
  readonly store: Pick<JobStore, 'getJobCode'>;
  readonly clock: Clock;
  readonly closed: boolean;
  readonly workers: { all(): Iterable<{ readonly credit: number; readonly inFlight: number }> };
  readonly dispatcher: { schedule(): void; readonly pass: { dispatchNow(): void } };
  readonly feeds: {
    readonly messages: {
      load(job: JobRuntime): Promise<void>;
      catchUp(job: JobRuntime): Promise<void>;
    };
  };
  findJob(jobId: string): JobRuntime | undefined;
  /** Every job, oldest first. */
  visibleJobs(): JobRuntime[];
  runtime(record: JobRecord, code?: JobCode): JobRuntime;
  adoptJob(job: JobRuntime): void;
  dropJob(job: JobRuntime): void;
  finish(job: JobRuntime, finishedNow: boolean): void;
  retire(job: JobRuntime, reason: CancelReason): void;
  sweepCancelled(job: JobRuntime): void;
  stopJob(job: JobRuntime, reason: string): void;
  pumpStreams(jobId: string): void;
}

export class ClusterJobs {
  constructor(
    readonly link: ClusterLink,
    private readonly host: ClusterJobsHost,
  ) {}

  /**
   * Settlement's store here: the database gives the seqs, so streams read the store (no window
   * of recent outcomes), and whether the job is done is the database's word (its tally after).
   */
  record(
    job: JobRuntime,
    outcomes: Settled[],
    stored: StoredOutcome[],
    series?: StoredSeriesLines[],
  ): void {
    const jobId = job.record.id;
    this.link.settle(jobId, stored, series).then(
      (tally) => this.applyTally(job, tally, 'outcomes'),
      (err: unknown) => console.error(`tabgrid: could not store outcomes of job ${jobId}:`, err),
    );
    // maxFailures: only while the job's first settled tasks have all failed alike (else off).
    if (job.watchingFailures) {
      const reason = job.watchFailures(outcomes);
      if (reason !== undefined) this.host.stopJob(job, reason);
    }
  }

  /** Where the queue of job `jobId` gets its tasks on this node. */
  claimer(jobId: string): TaskClaimer {
    return {
      claim: (count) => this.claim(jobId, count),
      batch: () => this.claimBatch(),
    };
  }

  /**
   * Tasks a node claims at once: four times what its workers have room for (the next claim
   * starts when half of that is left, and its transaction must end before the workers ran out),
   * at least {@link MIN_CLAIM}; none without workers (the tasks would wait here while other
   * nodes' workers idle).
   */
  private claimBatch(): number {
    let room = 0;
    for (const worker of this.host.workers.all()) room += worker.credit + worker.inFlight;
    return room === 0 ? 0 : Math.max(MIN_CLAIM, 4 * room);
  }

  /** Claims tasks of the job for this node, with the tries saved for them (by any node). */
  private async claim(jobId: string, count: number): Promise<StoredTask[]> {
    const tasks = await this.link.claim(jobId, count);
    const job = this.host.findJob(jobId);
    for (const task of tasks) {
      if (task.tries) job?.tries.restore(task.index, task.tries.attempts, task.tries.errorRetries);
    }
    return tasks;
  }

  /** A batch, its indexes from the database (a batch id stored already: its first answer). */
  async submit(job: JobRuntime, batchId: string, inputs: CarriedValue[]): Promise<BatchAck> {
    const jobId = job.record.id;
    const ack = await this.link.appendBatch(jobId, batchId, inputs, this.host.clock.now());
    job.noteTotal(ack.firstIndex + ack.count);
    job.queue?.hint();
    this.link.announce('tasks', jobId);
    this.host.dispatcher.pass.dispatchNow();
    return ack;
  }

  /** No more tasks (done at once when every task settled). */
  async close(job: JobRuntime): Promise<JobInfo> {
    const tally = await this.link.close(job.record.id);
    if (tally) this.applyTally(job, tally, 'state');
    this.link.announce('job', job.record.id);
    return job.info();
  }

  /** Cancelled by its owner: this node sweeps its unsettled tasks into `cancelled` errors. */
  async cancel(job: JobRuntime): Promise<JobInfo> {
    job.beginCancelSweep(); // streams must not end before the sweep settled the rest
    let tally: JobTally | undefined;
    try {
      tally = await this.link.cancel(job.record.id, null);
    } catch (err) {
      job.endCancelSweep();
      throw err;
    }
    if (tally) this.applyTally(job, tally, 'state');
    this.link.announce('job', job.record.id);
    if (tally?.state === 'cancelled') this.host.sweepCancelled(job);
    else job.endCancelSweep();
    return job.info();
  }

  /** `maxFailures` fired here (the job was cancelled and retired on this node already). */
  stop(job: JobRuntime, reason: string): void {
    job.beginCancelSweep();
    this.link.cancel(job.record.id, reason).then(
      (tally) => {
        if (tally) this.applyTally(job, tally, 'state');
        this.link.announce('job', job.record.id);
        this.host.sweepCancelled(job);
      },
      (err: unknown) => {
        job.endCancelSweep();
        console.error(`tabgrid: could not cancel job ${job.record.id} (maxFailures):`, err);
      },
    );
  }

  /** The job runs here no more: this node's claims of it go (their tasks are settled or swept). */
  retired(job: JobRuntime): void {
    this.link.release(job.record.id).catch((err: unknown) => {
      console.error(`tabgrid: could not release the claims of job ${job.record.id}:`, err);
    });
  }

  /**
   * The job's counters and state as the database holds them, after this node's commit (`why`:
   * what it committed) or a sync: finished or cancelled elsewhere, it retires here; its streams
   * read on.
   */
  applyTally(
    job: JobRuntime,
    tally: JobTally,
    why: 'outcomes' | 'sync' | 'state',
    paused?: string | null,
  ): void {
    const host = this.host;
    if (host.findJob(job.record.id) !== job) return; // deleted meanwhile
    const wasRunnable = job.runnable;
    job.applyTally(tally, paused);
    if (wasRunnable && tally.state === 'done') host.finish(job, true);
    else if (wasRunnable && tally.state === 'cancelled') host.retire(job, 'cancelled');
    if (why === 'outcomes') this.link.announce('outcomes', job.record.id);
    host.pumpStreams(job.record.id);
  }

  /**
   * A job as the database holds it: new here, it is loaded (with its code while it runs); known,
   * its tally and pause follow the database.
   */
  async syncJob(record: JobRecord): Promise<void> {
    const host = this.host;
    const known = host.findJob(record.id);
    if (known) {
      this.applyTally(known, record, 'sync', record.paused);
      return;
    }
    const runnable = record.state === 'open' || record.state === 'closed';
    const code = runnable ? await host.store.getJobCode(record.id) : undefined;
    if (host.findJob(record.id) || host.closed) return; // loaded meanwhile
    const job = host.runtime(record, code);
    if (job.queue && record.messageSeq > 0) await host.feeds.messages.load(job);
    host.adoptJob(job);
    if (runnable) host.dispatcher.schedule();
  }

  /** Another node stored a message to the job: this node's threads of it get it too. */
  messagesTold(jobId: string): void {
    const job = this.host.findJob(jobId);
    if (!job?.runnable) return;
    this.host.feeds.messages.catchUp(job).catch((err: unknown) => {
      console.error(`tabgrid: could not read the messages of job ${jobId}:`, err);
    });
  }

  /** Another node deleted the job: it goes here too. */
  forgetJob(jobId: string): void {
    const job = this.host.findJob(jobId);
    if (job) this.host.dropJob(job);
  }

  /** Tasks of the job (of every job, without one) may be claimable: the next pass claims. */
  hintClaims(jobId?: string): void {
    if (jobId === undefined) for (const job of this.host.visibleJobs()) job.queue?.hint();
    else this.host.findJob(jobId)?.queue?.hint();
    this.host.dispatcher.schedule();
  }

  /** Ids of the jobs whose streams may still get outcomes (the sync asks for these). */
  unfinishedJobIds(): string[] {
    const out: string[] = [];
    for (const job of this.host.visibleJobs()) if (!job.streamsFinished) out.push(job.record.id);
    return out;
  }
}

/**
 * What the core asks of the other nodes when several share one database (issue 15). One node
 * alone has none of this: its queues page the store and its counters are its own. With a link,
 *
 * - a job's queue on this node holds only the tasks this node claimed (in batches, under a lease
 *   the link renews every heartbeat; a node that dies stops renewing and the others take its
 *   claims back once they expire);
 * - a batch's indexes, an outcome's seq and the job's counters and state come from the database
 *   (the first outcome for (job, index) wins there, from whichever node), and this node's copy
 *   follows them ({@link JobTally});
 * - what changes a job is announced to the other nodes, which sync from the database.
 *
 * The link is apps/server/src/cluster/cluster-node.ts, on the PostgreSQL store.
 */
import type { WorkerStats } from '@tabgrid/protocol/dashboard';
import type { StoredJobTally } from '@tabgrid/protocol/stored';
import type {
  CarriedValue,
  ClaimedTask,
  StoredOutcome,
  StoredSeriesLines,
} from '../store/job-store.js';

/** A job's counters and state as the database holds them: what every node agrees on. */
export type JobTally = StoredJobTally;

export type { ClaimedTask };

/**
 * What changed, for the other nodes: a job (created, closed, cancelled, resumed), new or freed
 * tasks, outcomes, a message told, a deletion.
 */
export type Announcement = 'job' | 'tasks' | 'outcomes' | 'messages' | 'deleted';

export interface ClusterLink {
  /** This node's id (its claims carry it). */
  readonly node: string;
  /** Claims up to `count` queued tasks of the job for this node, in index order. */
  claim(jobId: string, count: number): Promise<ClaimedTask[]>;
  /** Appends a batch at the job's total (a batch id stored already returns its indexes). */
  appendBatch(
    jobId: string,
    batchId: string,
    inputs: readonly CarriedValue[],
    submittedAt: number,
  ): Promise<{ firstIndex: number; count: number }>;
  /** Stores outcomes, the database giving their seqs; the job's tally after the commit. */
  settle(
    jobId: string,
    outcomes: readonly StoredOutcome[],
    series?: StoredSeriesLines[],
  ): Promise<JobTally>;
  /** No more tasks (done at once if all settled); the tally after. */
  close(jobId: string): Promise<JobTally | undefined>;
  /** Cancelled unless it ended; `reason` the server's own (maxFailures), null for its owner's. */
  cancel(jobId: string, reason: string | null): Promise<JobTally | undefined>;
  /** Gives up this node's claims of the job (it ended, or runs here no more). */
  release(jobId: string): Promise<void>;
  /** Tells the other nodes (coalesced: many announcements of one job in a moment send one). */
  announce(what: Announcement, jobId: string): void;
  /** The other nodes' workers as they last published them (the dashboard's whole grid). */
  remoteWorkers?(): readonly WorkerStats[];
}

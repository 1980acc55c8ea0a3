/**
 * What the volunteer runtime shows the page (its snapshot) and what the page passes it besides
 * the basics; and how released chunks are grouped by job for a `release` frame.
 */
import type { ThreadTask } from '@tabgrid/job-runtime/sandbox-protocol';
import type { JobPublic, OperatorInfo, WorkerCapabilities } from '@tabgrid/protocol/jobs';
import type { ConnectionStatus } from '../connection/worker-connection';
import type { Chunk } from '../sandbox/chunk';
import type { Contribution, ContributionLedger } from '../settings/contribution-ledger';

export interface TaskGroup {
  jobId: string;
  tasks: readonly ThreadTask[];
}

export function groupsOf(chunks: readonly Chunk[]): TaskGroup[] {
  return chunks.map(({ job, tasks }) => ({ jobId: job.jobId, tasks }));
}

/**
 * Why the tab takes no tasks: the volunteer paused it, it is hidden ("only while visible"), or
 * the device runs on battery ("pause on battery").
 */
export type HoldReason = 'user' | 'hidden' | 'battery';

/** The job this tab runs tasks of now, as the volunteer sees it. */
export interface CurrentJob {
  id: string;
  public?: JobPublic;
}

export interface RuntimeSnapshot {
  connection: ConnectionStatus;
  paused: boolean;
  /** Every reason it holds off (empty: running). */
  holds: readonly HoldReason[];
  threads: number;
  /** CPU cap, percent of each thread's time. */
  cpuCap: number;
  tasksDone: number;
  tasksFailed: number;
  tasksPerSecond: number;
  currentJobId: string | undefined;
  /** Cleared once the tab has nothing queued or running. */
  currentJob: CurrentJob | undefined;
  /** Who runs the grid (the last welcome that said so). */
  operator: OperatorInfo | undefined;
  /** What this browser gave, today and in total (the ledger's; zeros without one). */
  contribution: Contribution | undefined;
  /** Thread messages dropped because a job's code had tampered with its sandbox thread. */
  sandboxFaults: number;
}

/** What the page passes besides the basics (all optional: tests leave them out). */
export interface RuntimeExtras {
  /** Announced in hello: the server gives jobs with requirements only to tabs that meet them. */
  capabilities?: WorkerCapabilities;
  /** Counts tasks and CPU time given, kept in localStorage. */
  ledger?: ContributionLedger;
  /** Initial CPU cap, percent (default 100). */
  cpuCap?: number;
}

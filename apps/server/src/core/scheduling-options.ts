import type { ClusterLink } from './cluster-link.js';
import type { OperatorInfo } from '@tabgrid/protocol/jobs';
import type { JobStore } from '../store/job-store.js';
import type { Clock, RandomSource } from './clock.js';
import type { CoreLog } from './core-log.js';

/** Tunables of scheduling that an operator may change (AppOptions.scheduling). */
export interface SchedulingOptions {
  /**
   * Count workers that share a remote address as distinct (a lab where every tab runs on one
   * machine or behind one NAT): replicas of one task may then run on them, and strikes and
   * crashes follow the connection. Default false: a worker is its address, so replicas go to
   * distinct addresses, and strikes and crash counts follow the address across reconnects.
   * Env `TABGRID_SAME_ADDRESS_DISTINCT=1`.
   */
  sameAddressDistinct?: boolean;
  /**
   * Losses of a task's tab while it runs there alone after which it settles as `lost` (capped by
   * the job's `maxAttempts`). Default 3.
   */
  maxCrashes?: number;
  /** Tasks settled lost that way after which their job is paused. Default 3. */
  pauseAfterCrashedTasks?: number;
  /**
   * Collected series one job may store, serialized (over it, values are dropped and counted,
   * and the job's threads are told). Default 256 MB. Env `TABGRID_MAX_SERIES_BYTES_PER_JOB`.
   */
  maxSeriesBytesPerJob?: number;
  /**
   * Who runs this grid, shown on every worker page (issue 16). Env `TABGRID_OPERATOR_NAME`,
   * `TABGRID_OPERATOR_DESCRIPTION`, `TABGRID_OPERATOR_LINK`.
   */
  operator?: OperatorInfo;
}

export interface SchedulerOptions extends SchedulingOptions {
  store: JobStore;
  /** Random numbers in [0, 1) for the retry backoff's jitter (tests inject a seeded one). */
  random?: RandomSource;
  /** Time and timers (retry backoff, lease expiry, stall checks, stats ticks); default the real clock. */
  clock?: Clock;
  /** Where job lifecycle lines and the core's errors go (default {@link consoleLog}: errors only). */
  log?: CoreLog;
  /** One of several nodes on one database (issue 15; ./cluster-link.ts). */
  cluster?: ClusterLink;
}

/** Counters for operators: outcomes that arrived but were not used. */
export interface DeliveryStats {
  /** A second outcome for an already settled task (execution is at-least-once). */
  duplicates: number;
  /** Outcomes for jobs that were cancelled, deleted or finished meanwhile. */
  dropped: number;
  /**
   * Outcomes and hand-backs for tasks not leased to the connection that sent them (an attacker
   * forging answers, or a confused client): dropped, and too many close the socket.
   */
  forged: number;
  /** Reports from worker pages that a job's code tampered with its sandbox (`fault` frames). */
  sandboxFaults: number;
  /** Worker identities that lost too many quorums and get no more tasks. */
  excludedWorkers: number;
}

export const DEFAULT_MAX_CRASHES = 3;
export const DEFAULT_PAUSE_AFTER_CRASHED_TASKS = 3;

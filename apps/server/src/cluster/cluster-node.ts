/**
 * This node among several on one PostgreSQL (issue 15): the core's {@link ClusterLink} over the
 * store's cluster statements, and the loops that keep this node in step with the others.
 *
 * - heartbeat (every `leaseTtlMs / 4`): renews all of this node's claims in one statement and
 *   publishes its workers (the other nodes' dashboards list them);
 * - take-back (every second): any node deletes the claims that expired (their node died or hung
 *   for longer than `leaseTtlMs`) and tells every node their tasks are claimable;
 * - sync (on every notification, and every `syncMs` as the fallback when one is missed): the
 *   jobs that run or whose streams are open, as the database holds them; new jobs are loaded,
 *   deleted ones dropped;
 * - announcements: what this node changed, as `NOTIFY` on the schema's channel, coalesced (one
 *   notification per moment carries every job that changed in it: NOTIFY takes a lock at commit
 *   that every notifying transaction of the database shares).
 *
 * Priority and fairness across nodes hold approximately: each node dispatches its claimed tasks
 * by priority and fair share among its own workers, and claims for the jobs its workers would run
 * next, in small batches (twice what its workers have room for), so no node hoards a job's tasks
 * while another's workers wait.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { WorkerStats } from '@tabgrid/protocol/dashboard';
import type { Announcement, ClusterLink, ClaimedTask, JobTally } from '../core/cluster-link.js';
import type { Scheduler } from '../core/scheduler.js';
import type { StoredOutcome, StoredSeriesLines } from '../store/job-store.js';
import type { NodeRow, PgCluster } from '../store/postgres/pg-cluster.js';
import { decodeNodeWorkers, encodeNodeWorkers } from './node-workers.js';

export interface ClusterNodeOptions {
  /** This node's id (TABGRID_NODE_ID; default: the host name and a random suffix). */
  node?: string;
  /** How long a claim lives without a heartbeat (TABGRID_LEASE_TTL_MS; default 10 s). */
  leaseTtlMs?: number;
  /** Polling fallback of the sync (default 500 ms). */
  syncMs?: number;
  /** Where the loops' errors go (the database away, say): they retry on their next tick. */
  warn?: (what: string, err: unknown) => void;
}

export const DEFAULT_LEASE_TTL_MS = 10_000;
const DEFAULT_SYNC_MS = 500;
const TAKE_BACK_MS = 1000;
/** Announcements gather this long before one NOTIFY carries them all. */
const ANNOUNCE_MS = 20;
/** A notification's payload must stay under PostgreSQL's 8,000 bytes. */
const MAX_PAYLOAD = 7000;
/** After the LISTEN connection dropped: this long before listening again (polling meanwhile). */
const RELISTEN_MS = 2000;

const KINDS: Record<Announcement, string> = {
  job: 'j',
  tasks: 't',
  outcomes: 'o',
  messages: 'm',
  deleted: 'd',
};

export class ClusterNode implements ClusterLink {
  readonly node: string;
  readonly leaseTtlMs: number;
  private readonly syncMs: number;
  private scheduler: Scheduler | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly pending = new Set<string>();
  private announceTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private lastPos = 0;
  private stopListening: (() => Promise<void>) | undefined;
  private stopped = false;
  /** The other nodes' workers, as their last heartbeats published them. */
  private remote: WorkerStats[] = [];
  private readonly warn: (what: string, err: unknown) => void;

  constructor(
    private readonly db: PgCluster,
    options: ClusterNodeOptions = {},
  ) {
    this.node = options.node ?? `${hostname()}-${randomUUID().slice(0, 8)}`;
    this.leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.syncMs = options.syncMs ?? DEFAULT_SYNC_MS;
    this.warn =
      options.warn ??
      ((what, err) =>
        console.error(
          `tabgrid: node ${this.node}: ${what}:`,
          err instanceof Error ? err.message : err,
        ));
  }

  /**
   * Before the core loads the jobs: claims this node id held before a restart are given back
   * (their tasks were lost with the process that ran them).
   */
  async prepare(): Promise<void> {
    await this.db.release(this.node);
  }

  /** Starts the loops, for `scheduler` (opened with this node as its cluster link). */
  async start(scheduler: Scheduler): Promise<void> {
    if (!scheduler.clustered)
      throw new Error('the scheduler was opened without this node as its cluster link');
    this.scheduler = scheduler;
    await this.listen();
    await this.heartbeat();
    await this.sync();
    const every = (ms: number, tick: () => Promise<unknown>, what: string) => {
      const timer = setInterval(() => {
        tick().catch((err: unknown) => this.warn(what, err));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(
      Math.max(250, Math.floor(this.leaseTtlMs / 4)),
      () => this.heartbeat(),
      'heartbeat failed',
    );
    every(TAKE_BACK_MS, () => this.takeBack(), 'taking back expired claims failed');
    every(this.syncMs, () => this.sync(), 'sync failed');
  }

  /** Stops the loops and gives this node's claims back (a clean stop: others claim at once). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    if (this.announceTimer) clearTimeout(this.announceTimer);
    await this.flushAnnouncements().catch(() => undefined);
    await this.stopListening?.();
    await this.db.release(this.node).catch((err: unknown) => this.warn('release failed', err));
    await this.db.leave(this.node).catch(() => undefined);
    await this.db.notify(this.payload([`t:*`])).catch(() => undefined);
  }

  /** Workers connected to the other nodes (the dashboard's whole grid). */
  remoteWorkers(): readonly WorkerStats[] {
    return this.remote;
  }

  // ---- ClusterLink ------------------------------------------------------------------

  claim(jobId: string, count: number): Promise<ClaimedTask[]> {
    return this.db.claim(this.node, jobId, count, this.leaseTtlMs, Date.now());
  }

  appendBatch(
    jobId: string,
    batchId: string,
    inputs: readonly string[],
    submittedAt: number,
  ): Promise<{ firstIndex: number; count: number }> {
    return this.db.appendBatch(jobId, batchId, inputs, submittedAt);
  }

  settle(
    jobId: string,
    outcomes: readonly StoredOutcome[],
    series?: StoredSeriesLines[],
  ): Promise<JobTally> {
    return this.db.settle(jobId, outcomes, series);
  }

  close(jobId: string): Promise<JobTally | undefined> {
    return this.db.close(jobId);
  }

  cancel(jobId: string, reason: string | null): Promise<JobTally | undefined> {
    return this.db.cancel(jobId, reason);
  }

  release(jobId: string): Promise<void> {
    return this.db.release(this.node, jobId);
  }

  announce(what: Announcement, jobId: string): void {
    if (this.stopped) return;
    this.pending.add(`${KINDS[what]}:${jobId}`);
    this.announceTimer ??= setTimeout(() => {
      this.announceTimer = undefined;
      this.flushAnnouncements().catch((err: unknown) => this.warn('notify failed', err));
    }, ANNOUNCE_MS);
  }

  // ---- the loops --------------------------------------------------------------------

  /** A payload: this node's id, then one `kind:jobId` per line. */
  private payload(lines: string[]): string {
    return [this.node, ...lines].join('\n');
  }

  private async flushAnnouncements(): Promise<void> {
    const lines = [...this.pending];
    this.pending.clear();
    let chunk: string[] = [];
    let bytes = this.node.length;
    for (const line of lines) {
      if (bytes + line.length + 1 > MAX_PAYLOAD && chunk.length > 0) {
        await this.db.notify(this.payload(chunk));
        chunk = [];
        bytes = this.node.length;
      }
      chunk.push(line);
      bytes += line.length + 1;
    }
    if (chunk.length > 0) await this.db.notify(this.payload(chunk));
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    try {
      this.stopListening = await this.db.listen(
        (payload) => this.heard(payload),
        (err) => {
          this.warn('the LISTEN connection dropped (polling until it is back)', err);
          this.stopListening = undefined;
          const timer = setTimeout(() => void this.listen(), RELISTEN_MS);
          timer.unref();
        },
      );
    } catch (err) {
      this.warn('cannot LISTEN (polling until it can)', err);
      const timer = setTimeout(() => void this.listen(), RELISTEN_MS);
      timer.unref();
    }
  }

  /** Another node's announcements. */
  private heard(payload: string): void {
    const jobs = this.scheduler?.clustered;
    if (!jobs || this.stopped) return;
    const [from, ...lines] = payload.split('\n');
    if (from === this.node) return;
    let sync = false;
    for (const line of lines) {
      const kind = line.slice(0, 1);
      const jobId = line.slice(2);
      if (kind === 't') jobs.hintClaims(jobId === '*' ? undefined : jobId);
      else if (kind === 'd') jobs.forgetJob(jobId);
      else if (kind === 'm') jobs.messagesTold(jobId);
      else sync = true;
    }
    if (sync) void this.sync().catch((err: unknown) => this.warn('sync failed', err));
  }

  private async heartbeat(): Promise<void> {
    const scheduler = this.scheduler;
    const workers = scheduler ? scheduler.statsCollector.localWorkers() : [];
    const now = Date.now();
    await this.db.heartbeat(this.node, this.leaseTtlMs, now, encodeNodeWorkers(workers));
    // Nodes not seen for two lease lifetimes are gone; their workers with them.
    const rows: NodeRow[] = await this.db.nodes(
      now - 2 * this.leaseTtlMs,
      now - 10 * this.leaseTtlMs,
    );
    const remote: WorkerStats[] = [];
    for (const row of rows) {
      if (row.id === this.node) continue;
      for (const w of decodeNodeWorkers(row.workers)) remote.push(w);
    }
    this.remote = remote;
  }

  private async takeBack(): Promise<void> {
    const taken = await this.db.takeBackExpired(Date.now());
    if (taken.length === 0) return;
    const jobs = new Set<string>();
    for (const t of taken) {
      if (t.tasks > 0) jobs.add(t.jobId);
    }
    for (const jobId of jobs) {
      this.scheduler?.clustered?.hintClaims(jobId);
      this.announce('tasks', jobId);
    }
    if (taken.length > 0) this.onTakeBack?.(taken);
  }

  /** Tests and logs hear of claims taken back (whose, which job, how many tasks). */
  onTakeBack: ((taken: { node: string; jobId: string; tasks: number }[]) => void) | undefined;

  /** One sync at a time; a call while one runs makes it run once more after. */
  private sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.syncAgain = false;
          await this.syncOnce();
        } while (this.syncAgain && !this.stopped);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const jobs = this.scheduler?.clustered;
    if (!jobs || this.stopped) return;
    const asked = jobs.unfinishedJobIds();
    const rows = await this.db.jobs(asked, this.lastPos);
    const seen = new Set<string>();
    for (const { pos, record } of rows) {
      seen.add(record.id);
      if (pos > this.lastPos) this.lastPos = pos;
      await jobs.syncJob(record);
    }
    for (const id of asked) if (!seen.has(id)) jobs.forgetJob(id);
    jobs.hintClaims();
  }
}

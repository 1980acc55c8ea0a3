/**
 * Every lease of the server, in one table: which connection holds which task, since when and
 * until when. Nothing else keeps lease state; the dispatcher grants, settlement releases, the
 * stall check and a disconnect take back, all through this table.
 *
 * Shaped for a store on another engine (several nodes on one PostgreSQL): a lease has an owner
 * ({@link LeaseOwner}: node, then connection) and an expiry; leases are granted a frame at a
 * time ({@link LeaseGrant}: one row, or one statement, per batch), an answer renews its frame,
 * and {@link LeaseTable.takeBackExpired} is one query (`… WHERE expires_at < now RETURNING …`).
 * MemoryLeaseTable (memory-lease-table.ts) is the single-node implementation.
 */
import type { StoredTask } from '../store/job-store.js';

/** Who holds a lease: a server node, and one worker connection on it. */
export interface LeaseOwner {
  readonly node: string;
  readonly connection: string;
  /** The worker's identity beyond the connection (its address, usually; see WorkerSession). */
  readonly identity: string;
}

/** Tasks of one job sent to one connection in one frame: leased, renewed and expired together. */
export interface LeaseGrant {
  readonly owner: LeaseOwner;
  readonly jobId: string;
  /** The connection's frame number (1, 2, …): a later frame answered means this one was seen. */
  readonly frame: number;
  readonly grantedAt: number;
  /** Granted, or last answered, plus `ttlMs`: past it, an unanswered lease may be taken back. */
  expiresAt: number;
  readonly ttlMs: number;
  /** Its leases not yet released. */
  outstanding: number;
  /** The connection holding it, and its count of the job's leases (no lookup on release). */
  readonly holder: LeaseHolder;
  readonly count: HeldCount;
}

/** One task out on one connection (a replica, when the job runs with redundancy). */
export interface Lease {
  readonly job: JobLeases;
  readonly index: number;
  readonly task: StoredTask;
  readonly grant: LeaseGrant;
  /** A replica of a redundancy job: several connections may hold one of the same task. */
  readonly replica: boolean;
  /** The task was a suspect (on a tab that crashed), dispatched alone. */
  readonly suspect: boolean;
}

/** What one connection holds. */
export class LeaseHolder {
  /** Leases held right now. */
  held = 0;
  /** The same, per job. */
  readonly byJob = new Map<string, HeldCount>();
  /** Grants with leases outstanding, by frame. */
  readonly grants = new Map<number, LeaseGrant>();
  /** Frames granted so far. */
  frames = 0;
  /** The latest frame a lease of which was answered. */
  answeredFrame = 0;
  /** The suspect lease it holds: while it does, it gets nothing else. */
  suspect: Lease | undefined;
  /** `jobId\0index` of leases taken back from it while it was alive (rare). */
  private readonly takenBack = new Set<string>();

  constructor(readonly owner: LeaseOwner) {}

  /** Leases of `jobId` held right now. */
  holding(jobId: string): number {
    return this.byJob.get(jobId)?.held ?? 0;
  }

  /** Records that a lease of this live connection was taken back: its late answer is stale. */
  markTakenBack(jobId: string, index: number): void {
    if (this.takenBack.size >= MAX_TAKEN_BACK) this.takenBack.clear();
    this.takenBack.add(`${jobId}\u0000${index}`);
  }

  /** Whether it once held the task and had it taken back (then forgets it). */
  hadTakenBack(jobId: string, index: number): boolean {
    return this.takenBack.size > 0 && this.takenBack.delete(`${jobId}\u0000${index}`);
  }
}

export interface HeldCount {
  held: number;
}

/** Taken-back leases remembered per connection, to tell a late answer from a forged one. */
const MAX_TAKEN_BACK = 10_000;

/** The leases of one job. */
export class JobLeases {
  /** Exclusive leases (redundancy 1), by task index. */
  readonly exclusive = new Map<number, Lease>();
  /** Replicas (redundancy > 1), by connection id, then task index. */
  readonly replicas = new Map<string, Map<number, Lease>>();
  replicaCount = 0;

  constructor(readonly jobId: string) {}

  /** Leases out right now. */
  get inFlight(): number {
    return this.exclusive.size + this.replicaCount;
  }

  /** The lease `connection` holds on task `index`, if any. */
  heldBy(index: number, connection: string): Lease | undefined {
    const exclusive = this.exclusive.get(index);
    if (exclusive) return exclusive.grant.owner.connection === connection ? exclusive : undefined;
    return this.replicas.get(connection)?.get(index);
  }
}

/**
 * The lease table's operations. Reads go through the handles ({@link LeaseHolder} per
 * connection, {@link JobLeases} per job), which the table alone changes.
 */
export interface LeaseTable {
  /** This node's id (every lease it grants is owned by it). */
  readonly node: string;
  /** A connection joins; its leases are kept under `connection`. */
  connect(connection: string, identity: string): LeaseHolder;
  /** The connection is gone: every lease it held is released and returned (grant order). */
  disconnect(holder: LeaseHolder): Lease[];
  /** A job can have leases from now on. */
  openJob(jobId: string): JobLeases;
  /** The job runs no more: its leases are released (answers to them count as duplicates). */
  closeJob(job: JobLeases): void;
  /** Leases `tasks` of `job` to `holder` as one frame, until `now + ttlMs` (renewed by answers). */
  grant(
    holder: LeaseHolder,
    job: JobLeases,
    tasks: StoredTask[],
    now: number,
    ttlMs: number,
    kind: { replica: boolean; suspect: boolean },
  ): LeaseGrant;
  /** An answer came for a lease of `grant`: its other leases get another `ttlMs`. */
  renew(grant: LeaseGrant, now: number): void;
  /** Ends a lease; `answered`: its holder's outcome arrived (which renews its frame). */
  release(lease: Lease, answered: boolean, now: number): void;
  /**
   * Takes back (released, returned) every lease whose grant expired while its connection
   * answered a later frame. On PostgreSQL: one `UPDATE … WHERE expires_at < $now RETURNING`.
   */
  takeBackExpired(now: number): Lease[];
}

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
export class LeaseGrant {
  private _expiresAt: number;
  private _outstanding: number;

  constructor(
    readonly owner: LeaseOwner,
    readonly jobId: string,
    /** The connection's frame number (1, 2, …): a later frame answered means this one was seen. */
    readonly frame: number,
    readonly grantedAt: number,
    readonly ttlMs: number,
    /** Leases in the frame. */
    outstanding: number,
    /** The connection holding it, and its count of the job's leases (no lookup on release). */
    readonly holder: LeaseHolder,
    readonly count: HeldCount,
  ) {
    this._expiresAt = grantedAt + ttlMs;
    this._outstanding = outstanding;
  }

  /** Granted, or last answered, plus `ttlMs`: past it, an unanswered lease may be taken back. */
  get expiresAt(): number {
    return this._expiresAt;
  }

  /** Its leases not yet released. */
  get outstanding(): number {
    return this._outstanding;
  }

  /** An answer came for one of its leases at `now`: the others get another `ttlMs`. */
  renew(now: number): void {
    this._expiresAt = now + this.ttlMs;
    this.holder.noteAnswered(this.frame);
  }

  /** One of its leases ended; true once none is left. */
  releaseOne(): boolean {
    return --this._outstanding <= 0;
  }

  /** Expired while its connection answered a later frame: it was swallowed. */
  swallowed(now: number): boolean {
    return this._expiresAt < now && this.holder.answeredFrame > this.frame;
  }
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

/** What one connection holds (the lease table changes it through these methods). */
export class LeaseHolder {
  private _held = 0;
  private readonly counts = new Map<string, HeldCount>();
  private readonly _grants = new Map<number, LeaseGrant>();
  /** Frames granted so far. */
  private frames = 0;
  private _answeredFrame = 0;
  private _suspect: Lease | undefined;
  /** `jobId\0index` of leases taken back from it while it was alive (rare). */
  private readonly takenBack = new Set<string>();

  constructor(readonly owner: LeaseOwner) {}

  /** Leases held right now. */
  get held(): number {
    return this._held;
  }

  /** The same, per job. */
  get byJob(): ReadonlyMap<string, HeldCount> {
    return this.counts;
  }

  /** Grants with leases outstanding, by frame. */
  get grants(): ReadonlyMap<number, LeaseGrant> {
    return this._grants;
  }

  /** The latest frame a lease of which was answered. */
  get answeredFrame(): number {
    return this._answeredFrame;
  }

  /** The suspect lease it holds: while it does, it gets nothing else. */
  get suspect(): Lease | undefined {
    return this._suspect;
  }

  /** Leases of `jobId` held right now. */
  holding(jobId: string): number {
    return this.counts.get(jobId)?.held ?? 0;
  }

  /** Its count of `jobId`'s leases, created on first use. */
  countOf(jobId: string): HeldCount {
    let count = this.counts.get(jobId);
    if (!count) this.counts.set(jobId, (count = new HeldCount()));
    return count;
  }

  /** The number of the frame it is granted next. */
  nextFrame(): number {
    return ++this.frames;
  }

  /** `grant` is out on this connection, with all its leases. */
  hold(grant: LeaseGrant): void {
    this._grants.set(grant.frame, grant);
    this._held += grant.outstanding;
    grant.count.add(grant.outstanding);
  }

  /** It holds `lease`, a suspect: it runs it alone. */
  holdSuspect(lease: Lease): void {
    this._suspect = lease;
  }

  /** A lease of frame `frame` was answered. */
  noteAnswered(frame: number): void {
    if (this._answeredFrame < frame) this._answeredFrame = frame;
  }

  /** `lease` (of a grant of this connection) ended. */
  released(lease: Lease): void {
    const grant = lease.grant;
    if (grant.releaseOne()) this._grants.delete(grant.frame);
    if (grant.count.drop()) this._held--;
    if (this._suspect === lease) this._suspect = undefined;
  }

  /** The job runs no more: its count goes. */
  forgetJob(jobId: string): void {
    this.counts.delete(jobId);
  }

  /** Records that a lease of this live connection was taken back: its late answer is stale. */
  markTakenBack(jobId: string, index: number): void {
    if (this.takenBack.size >= MAX_TAKEN_BACK) this.takenBack.clear();
    this.takenBack.add(`${jobId}\u0000${index}`);
  }

  /** Whether it once held the task and had it taken back (without forgetting it: for reports). */
  wasTakenBack(jobId: string, index: number): boolean {
    return this.takenBack.size > 0 && this.takenBack.has(`${jobId}\u0000${index}`);
  }

  /** Whether it once held the task and had it taken back (then forgets it). */
  hadTakenBack(jobId: string, index: number): boolean {
    return this.takenBack.size > 0 && this.takenBack.delete(`${jobId}\u0000${index}`);
  }
}

/** One connection's count of one job's leases. */
export class HeldCount {
  private _held = 0;

  get held(): number {
    return this._held;
  }

  add(n: number): void {
    this._held += n;
  }

  /** One fewer, never below 0; false when it was 0 already. */
  drop(): boolean {
    if (this._held <= 0) return false;
    this._held--;
    return true;
  }
}

/** Taken-back leases remembered per connection, to tell a late answer from a forged one. */
const MAX_TAKEN_BACK = 10_000;

/** The leases of one job (the lease table changes them through these methods). */
export class JobLeases {
  private readonly _exclusive = new Map<number, Lease>();
  private readonly _replicas = new Map<string, Map<number, Lease>>();
  private _replicaCount = 0;

  constructor(readonly jobId: string) {}

  /** Exclusive leases (redundancy 1), by task index. */
  get exclusive(): ReadonlyMap<number, Lease> {
    return this._exclusive;
  }

  /** Replicas (redundancy > 1), by connection id, then task index. */
  get replicas(): ReadonlyMap<string, ReadonlyMap<number, Lease>> {
    return this._replicas;
  }

  /** Replicas out right now. */
  get replicaCount(): number {
    return this._replicaCount;
  }

  /** Leases out right now. */
  get inFlight(): number {
    return this._exclusive.size + this._replicaCount;
  }

  /** `lease` is out (a replica under its connection). */
  add(lease: Lease): void {
    if (!lease.replica) {
      this._exclusive.set(lease.index, lease);
      return;
    }
    const connection = lease.grant.owner.connection;
    let replicas = this._replicas.get(connection);
    if (!replicas) this._replicas.set(connection, (replicas = new Map<number, Lease>()));
    replicas.set(lease.index, lease);
    this._replicaCount++;
  }

  /** `lease` is no longer out; false if it was not (released already, or replaced). */
  remove(lease: Lease): boolean {
    if (lease.replica) {
      const connection = lease.grant.owner.connection;
      const replicas = this._replicas.get(connection);
      if (!replicas?.delete(lease.index)) return false;
      this._replicaCount--;
      if (replicas.size === 0) this._replicas.delete(connection);
      return true;
    }
    if (this._exclusive.get(lease.index) !== lease) return false;
    this._exclusive.delete(lease.index);
    return true;
  }

  /** The lease `connection` holds on task `index`, if any. */
  heldBy(index: number, connection: string): Lease | undefined {
    const exclusive = this._exclusive.get(index);
    if (exclusive) return exclusive.grant.owner.connection === connection ? exclusive : undefined;
    return this._replicas.get(connection)?.get(index);
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
  /**
   * Takes back one live lease (its task went silent past its job's progressTimeoutMs): released,
   * and marked on its holder so a late answer counts as a duplicate, not a forgery.
   */
  takeBack(lease: Lease, now: number): void;
}

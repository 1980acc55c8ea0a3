import type { Lease, LeaseHolder, LeaseTable } from '../leases/lease-table.js';

/**
 * The scheduler's view of a connected worker (one browser tab, or one simulated worker).
 * Transport-agnostic: the route that owns the socket supplies `send` and `close`.
 */
export interface WorkerLink {
  send(frame: string): void;
  close(code: number, reason: string): void;
  /** False once the connection is closing: it gets no more tasks. */
  isOpen(): boolean;
  /** The remote address (the forwarded one when `trustProxy` is set): the worker's identity. */
  address?: string;
}

/** How much of one job one worker has earned the right to hold (what it holds: its leases). */
export interface JobShare {
  /**
   * Most tasks of the job it may hold: starts small and grows with every outcome it returns for
   * its own leases (like TCP's slow start), halves on every hand-back. Nothing the worker claims (threads,
   * credit, `ms`) raises it; only answering does.
   */
  window: number;
}

/** A worker whose answers lost to an accepted quorum this many times gets no more tasks. */
export const MAX_STRIKES = 3;
/** Identities with strikes kept (oldest forgotten first), so strikes cannot grow memory forever. */
const MAX_STRUCK_IDENTITIES = 100_000;

export class WorkerSession {
  /** Slots the worker has granted and the server has not used yet. */
  credit = 0;
  /** Per job id, the hold window it has earned. */
  readonly shares = new Map<string, JobShare>();
  tasksDone = 0;
  /** The job this worker was last given tasks of. */
  currentJob: string | null = null;
  threads = 0;
  userAgent = '';
  /** Last time this worker returned an outcome for a task it held, or was idle (epoch ms). */
  lastProgressAt: number;
  readonly connectedAt: number;
  /** Jobs whose program this connection already has. */
  readonly jobsSent = new Set<string>();
  /** Set once the worker's hello was accepted. */
  ready = false;
  /** Answers that lost to an accepted quorum (redundancy), counted per {@link identity}. */
  strikes = 0;
  /** Too many strikes: this worker gets no more tasks. */
  excluded = false;
  /** Outcomes and hand-backs for tasks that were never leased to this connection. */
  forged = 0;
  /** The job whose suspects this worker waits to run: it gets nothing else until idle. */
  draining: string | undefined;

  /** Tasks leased to this worker right now. */
  get inFlight(): number {
    return this.leases.held;
  }

  /**
   * Whether it holds a suspect (a task that was on a tab that crashed; see job-runtime.ts),
   * which runs alone: meanwhile it gets nothing else.
   */
  get runningSuspect(): boolean {
    return this.leases.suspect !== undefined;
  }

  /** The job's share of this worker, created with `window` on first use. */
  share(jobId: string, window: number): JobShare {
    let share = this.shares.get(jobId);
    if (!share) this.shares.set(jobId, (share = { window }));
    return share;
  }

  /** The job is gone: forget its share. */
  forgetJob(jobId: string): void {
    this.shares.delete(jobId);
  }

  constructor(
    readonly id: string,
    readonly link: WorkerLink,
    /**
     * Who this worker is beyond the connection: its remote address, so that replicas of a task
     * go to distinct hosts and strikes survive a reconnect; the connection id when the address
     * is unknown or the server lets one address run several replicas (a lab).
     */
    readonly identity: string,
    /** Its leases (the lease table changes them; the session only reads). */
    readonly leases: LeaseHolder,
    now: number,
  ) {
    this.connectedAt = now;
    this.lastProgressAt = now;
  }
}

/** Connected workers by id, in connection order (dispatch walks them round-robin). */
export class WorkerRegistry {
  private readonly sessions = new Map<string, WorkerSession>();
  /** Strikes by identity, kept across reconnects. */
  private readonly strikes = new Map<string, number>();
  private nextId = 1;

  /**
   * @param sameAddress true: every connection is its own identity even when peers share an
   *   address (a lab where all tabs run on one machine or behind one NAT).
   */
  constructor(
    private readonly leases: LeaseTable,
    private readonly sameAddress = false,
  ) {}

  add(link: WorkerLink, now: number): WorkerSession {
    const id = `w${this.nextId++}`;
    const identity = !this.sameAddress && link.address ? `addr:${link.address}` : id;
    const session = new WorkerSession(id, link, identity, this.leases.connect(id, identity), now);
    session.strikes = this.strikes.get(identity) ?? 0;
    session.excluded = session.strikes >= MAX_STRIKES;
    this.sessions.set(session.id, session);
    return session;
  }

  /** One more strike for `identity`; true when that excludes it (for the first time). */
  strike(identity: string): boolean {
    const strikes = (this.strikes.get(identity) ?? 0) + 1;
    this.strikes.delete(identity); // re-inserted last: the Map's order is least recently struck first
    this.strikes.set(identity, strikes);
    if (this.strikes.size > MAX_STRUCK_IDENTITIES) {
      const oldest = this.strikes.keys().next().value;
      if (oldest !== undefined) this.strikes.delete(oldest);
    }
    for (const session of this.sessions.values()) {
      if (session.identity !== identity) continue;
      session.strikes = strikes;
      session.excluded = strikes >= MAX_STRIKES;
    }
    return strikes === MAX_STRIKES;
  }

  /** The worker is gone; returns the leases it held, released. */
  remove(session: WorkerSession): Lease[] {
    this.sessions.delete(session.id);
    return this.leases.disconnect(session.leases);
  }

  get(id: string): WorkerSession | undefined {
    return this.sessions.get(id);
  }

  all(): IterableIterator<WorkerSession> {
    return this.sessions.values();
  }

  get size(): number {
    return this.sessions.size;
  }
}

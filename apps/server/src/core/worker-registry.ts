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

/** What one worker holds of one job, and how much it has earned the right to hold. */
export interface JobShare {
  /** Tasks (or replicas) of the job leased to this worker right now. */
  held: number;
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
/** Taken-back tasks remembered per connection, to tell a late answer from a forged one. */
const MAX_TAKEN_BACK = 10_000;

export class WorkerSession {
  /** Slots the worker has granted and the server has not used yet. */
  credit = 0;
  /** Tasks leased to this worker right now ({@link inFlight}). */
  private held = 0;
  /** The same, by job id, with each job's hold window. */
  readonly shares = new Map<string, JobShare>();
  tasksDone = 0;
  /** tasksDone at the last stats tick, for tasks/s. */
  doneAtTick = 0;
  tasksPerSecond = 0;
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
  /**
   * A task that was held when a tab crashed (see suspects in job-runtime.ts) runs alone: while
   * this worker holds one, it gets nothing else.
   */
  suspect: { jobId: string; index: number } | undefined;
  /** The job whose suspects this worker waits to run: it gets nothing else until idle. */
  draining: string | undefined;
  /** Task frames sent so far; each lease and replica records the number of its frame. */
  frames = 0;
  /** The latest frame this worker answered a task of. */
  answeredFrame = 0;
  /** Per frame with tasks outstanding: how many, and when one of them was last answered. */
  readonly openFrames = new Map<number, { outstanding: number; answeredAt: number }>();
  /** `jobId\0index` of tasks taken back from this connection while it was alive (rare). */
  private readonly takenBack = new Set<string>();

  /** Tasks leased to this worker right now. */
  get inFlight(): number {
    return this.held;
  }

  /** The job's share of this worker, created with `window` on first use. */
  share(jobId: string, window: number): JobShare {
    let share = this.shares.get(jobId);
    if (!share) this.shares.set(jobId, (share = { held: 0, window }));
    return share;
  }

  /** `count` tasks of `jobId` were leased to this worker. */
  hold(share: JobShare, count: number): void {
    this.held += count;
    share.held += count;
  }

  /** One task of `jobId` this worker held came back or was taken back. */
  drop(jobId: string): void {
    const share = this.shares.get(jobId);
    if (!share || share.held <= 0) return;
    this.held--;
    share.held--;
  }

  /** Tasks of `jobId` this worker holds. */
  holding(jobId: string): number {
    return this.shares.get(jobId)?.held ?? 0;
  }

  /** The job is gone: forget its share. */
  forgetJob(jobId: string): void {
    const share = this.shares.get(jobId);
    if (!share) return;
    this.held -= share.held;
    this.shares.delete(jobId);
  }

  /** Records that a task of `frame` came back (or was taken back). */
  closeLease(frame: number, answered: boolean, now: number): void {
    const open = this.openFrames.get(frame);
    if (!open) return;
    if (answered) {
      open.answeredAt = now;
      this.answeredFrame = Math.max(this.answeredFrame, frame);
    }
    if (--open.outstanding <= 0) this.openFrames.delete(frame);
  }

  /** A task of this live connection was taken back; its late answer is stale, not forged. */
  tookBack(jobId: string, index: number): void {
    if (this.takenBack.size >= MAX_TAKEN_BACK) this.takenBack.clear();
    this.takenBack.add(`${jobId}\u0000${index}`);
  }

  /** Whether this connection once held the task and had it taken back (then forgets it). */
  hadTakenBack(jobId: string, index: number): boolean {
    return this.takenBack.size > 0 && this.takenBack.delete(`${jobId}\u0000${index}`);
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
  constructor(private readonly sameAddress = false) {}

  add(link: WorkerLink, now: number): WorkerSession {
    const id = `w${this.nextId++}`;
    const identity = !this.sameAddress && link.address ? `addr:${link.address}` : id;
    const session = new WorkerSession(id, link, identity, now);
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

  remove(id: string): void {
    this.sessions.delete(id);
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

import type { JobRequirements } from '@tabgrid/protocol/jobs';
import { meetsRequirements } from './requirements-check.js';
import type { WorkerCapabilities, WorkerOffer } from '@tabgrid/protocol/jobs';
import type { Lease, LeaseHolder, LeaseTable } from '../leases/lease-table.js';
import { JobShare, MAX_KEPT_CREDIT } from './hold-limit.js';
import type { OutFrame } from './frames.js';
import { RecentlyLeft } from './recently-left.js';

/**
 * The scheduler's view of a connected worker (one browser tab, or one simulated worker).
 * Transport-agnostic: the route that owns the socket supplies `send` and `close`.
 */
export interface WorkerLink {
  /** JSON text (binary when it names bytes: see routes/worker-socket.ts), or a binary frame. */
  send(frame: OutFrame): void;
  close(code: number, reason: string): void;
  /** False once the connection is closing: it gets no more tasks. */
  isOpen(): boolean;
  /** The remote address (the forwarded one when `trustProxy` is set): the worker's identity. */
  address?: string;
}

/** A worker whose answers lost to an accepted quorum this many times gets no more tasks. */
export const MAX_STRIKES = 3;
/** Identities with strikes kept (oldest forgotten first), so strikes cannot grow memory forever. */
const MAX_STRUCK_IDENTITIES = 100_000;

export class WorkerSession {
  private _credit = 0;
  /** Per job id, the hold window it has earned. */
  private readonly shares = new Map<string, JobShare>();
  private _tasksDone = 0;
  private _currentJob: string | null = null;
  private _threads = 0;
  private _userAgent = '';
  private _lastProgressAt: number;
  readonly connectedAt: number;
  /** Jobs whose program this connection already has. */
  private readonly programs = new Set<string>();
  private _ready = false;
  private _strikes = 0;
  private _excluded = false;
  private _forged = 0;
  private _draining: string | undefined;
  /**
   * Jobs whose Setup failed on this connection (a subset of its programs): dispatch skips them
   * here while another connection could run them (see WorkerRegistry.setupFailed). Per
   * connection, not per identity: a reloaded tab (more memory, say) tries again.
   */
  readonly setupFailed = new Set<string>();
  /** Jobs whose program it dropped lately (their Teardown lines are still accepted). */
  readonly recentlyLeft = new RecentlyLeft();

  /** Slots the worker has granted and the server has not used yet. */
  get credit(): number {
    return this._credit;
  }

  /** Tasks it answered that it held. */
  get tasksDone(): number {
    return this._tasksDone;
  }

  /** The job this worker was last given tasks of. */
  get currentJob(): string | null {
    return this._currentJob;
  }

  get threads(): number {
    return this._threads;
  }

  get userAgent(): string {
    return this._userAgent;
  }

  /** Last time this worker returned an outcome for a task it held, or was idle (epoch ms). */
  get lastProgressAt(): number {
    return this._lastProgressAt;
  }

  /** Set once the worker's hello was accepted. */
  get ready(): boolean {
    return this._ready;
  }

  /** Answers that lost to an accepted quorum (redundancy), counted per {@link identity}. */
  get strikes(): number {
    return this._strikes;
  }

  /** Too many strikes: this worker gets no more tasks. */
  get excluded(): boolean {
    return this._excluded;
  }

  /** Outcomes and hand-backs for tasks that were never leased to this connection. */
  get forged(): number {
    return this._forged;
  }

  /** The job whose suspects this worker waits to run: it gets nothing else until idle. */
  get draining(): string | undefined {
    return this._draining;
  }

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

  private _capabilities: WorkerCapabilities | undefined;

  /** What it said it offers at hello (threads, WebGPU, memory): jobs' requirements meet this. */
  get offer(): WorkerOffer {
    return { threads: this._threads, capabilities: this._capabilities };
  }

  /** Its hello was accepted: it runs `threads` threads and grants `credit` slots to start with. */
  welcome(hello: {
    threads: number;
    userAgent: string;
    credit: number;
    capabilities?: WorkerCapabilities;
  }): void {
    this._capabilities = hello.capabilities;
    this._ready = true;
    this._threads = hello.threads;
    this._userAgent = hello.userAgent;
    this._credit = Math.min(MAX_KEPT_CREDIT, hello.credit);
  }

  /** The worker grants `slots` more (kept up to {@link MAX_KEPT_CREDIT}). */
  grantCredit(slots: number): void {
    this._credit = Math.min(MAX_KEPT_CREDIT, this._credit + slots);
  }

  /** `count` tasks of `jobId` were sent: they use that many slots, and it is the current job. */
  spendCredit(count: number, jobId: string): void {
    this._credit -= count;
    this._currentJob = jobId;
  }

  /** Whether this connection already has `jobId`'s program. */
  hasProgram(jobId: string): boolean {
    return this.programs.has(jobId);
  }

  programSent(jobId: string): void {
    this.programs.add(jobId);
  }

  /** One more outcome or hand-back for a task never leased to it; returns how many. */
  countForged(): number {
    return ++this._forged;
  }

  /** It answered one more task it held. */
  countDone(): void {
    this._tasksDone++;
  }

  /** It answered a task it held, or holds nothing, at `now`: it is not stalled. */
  noteProgress(now: number): void {
    this._lastProgressAt = now;
  }

  /** Its identity has `strikes` strikes now. */
  noteStrikes(strikes: number): void {
    this._strikes = strikes;
    this._excluded = strikes >= MAX_STRIKES;
  }

  /** It gets nothing more until it is idle, then runs a suspect of `jobId`. */
  drainFor(jobId: string): void {
    this._draining = jobId;
  }

  stopDraining(): void {
    this._draining = undefined;
  }

  /** The job's share of this worker, created with `window` on first use. */
  share(jobId: string, window: number): JobShare {
    let share = this.shares.get(jobId);
    if (!share) this.shares.set(jobId, (share = new JobShare(window)));
    return share;
  }

  /** The job's share of this worker, if it has one. */
  shareOf(jobId: string): JobShare | undefined {
    return this.shares.get(jobId);
  }

  /**
   * The job stopped running: its share, program and draining are forgotten. Returns whether the
   * connection had its program (then it should be told to drop it).
   */
  forgetJob(jobId: string, now: number): boolean {
    if (this._currentJob === jobId) this._currentJob = null;
    this.shares.delete(jobId);
    if (this._draining === jobId) this._draining = undefined;
    this.setupFailed.delete(jobId);
    if (!this.programs.delete(jobId)) return false;
    this.recentlyLeft.add(jobId, now); // its Teardown's lines are still welcome for a while
    return true;
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
    this._lastProgressAt = now;
  }
}

/** Connected workers by id, in connection order (dispatch walks them round-robin). */
export class WorkerRegistry {
  private readonly sessions = new Map<string, WorkerSession>();
  /** Strikes by identity, kept across reconnects. */
  private readonly strikes = new Map<string, number>();
  /** Per job, the connected sessions whose Setup of it failed (see {@link skipsSetupFailed}). */
  private readonly setupFailures = new Map<string, number>();
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
    session.noteStrikes(this.strikes.get(identity) ?? 0);
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
      session.noteStrikes(strikes);
    }
    return strikes === MAX_STRIKES;
  }

  /** The worker is gone; returns the leases it held, released. */
  remove(session: WorkerSession): Lease[] {
    this.sessions.delete(session.id);
    for (const jobId of session.setupFailed) this.uncountSetupFailure(jobId);
    return this.leases.disconnect(session.leases);
  }

  /**
   * `jobId`'s Setup failed on `session` (a thread of it threw or timed out in Setup): the job's
   * tasks go to other connections from now on, while there are any.
   */
  setupFailed(session: WorkerSession, jobId: string): void {
    if (session.setupFailed.has(jobId) || !session.hasProgram(jobId)) return;
    session.setupFailed.add(jobId);
    this.setupFailures.set(jobId, (this.setupFailures.get(jobId) ?? 0) + 1);
  }

  /**
   * Whether dispatch skips `jobId` on `session` because its Setup failed there. Not when every
   * connected worker has failed it: then the tasks run anyway, and settle as `setup` errors
   * once their attempts are spent, instead of waiting for a worker that may never come.
   */
  skipsSetupFailed(session: WorkerSession, jobId: string, requirements?: JobRequirements): boolean {
    if (!session.setupFailed.has(jobId)) return false;
    if ((this.setupFailures.get(jobId) ?? 0) >= this.sessions.size) return false; // all failed
    // Only a worker that can take the job's tasks counts (not a socket that never said hello,
    // nor a tab without what the job requires).
    for (const other of this.sessions.values()) {
      if (
        other.ready &&
        !other.excluded &&
        other.link.isOpen() &&
        !other.setupFailed.has(jobId) &&
        meetsRequirements(requirements, other.offer)
      )
        return true;
    }
    return false;
  }

  /** The job stopped running: its Setup failures are forgotten (sessions forget theirs). */
  forgetSetupFailures(jobId: string): void {
    this.setupFailures.delete(jobId);
  }

  private uncountSetupFailure(jobId: string): void {
    const count = (this.setupFailures.get(jobId) ?? 0) - 1;
    if (count > 0) this.setupFailures.set(jobId, count);
    else this.setupFailures.delete(jobId);
  }

  /** Sends `frame` to every connection that has `jobId`'s program. */
  sendToHolders(jobId: string, frame: string): void {
    for (const session of this.sessions.values()) {
      if (session.hasProgram(jobId)) session.link.send(frame);
    }
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

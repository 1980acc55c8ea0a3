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

export class WorkerSession {
  /** Slots the worker has granted and the server has not used yet. */
  credit = 0;
  /** Tasks leased to this worker right now ({@link inFlight}). */
  private held = 0;
  /** The same, by job id. */
  private readonly heldByJob = new Map<string, number>();
  tasksDone = 0;
  /** tasksDone at the last stats tick, for tasks/s. */
  doneAtTick = 0;
  tasksPerSecond = 0;
  /** The job this worker was last given tasks of. */
  currentJob: string | null = null;
  threads = 0;
  userAgent = '';
  /** Last time this worker returned an outcome or was idle (epoch ms). */
  lastProgressAt: number;
  readonly connectedAt: number;
  /** Jobs whose program this connection already has. */
  readonly jobsSent = new Set<string>();
  /** Set once the worker's hello was accepted. */
  ready = false;
  /** Answers that lost to an accepted quorum (redundancy). */
  strikes = 0;
  /** Too many strikes: this worker gets no more tasks. */
  excluded = false;
  /** Task frames sent so far; each lease and replica records the number of its frame. */
  frames = 0;
  /** The latest frame this worker answered a task of. */
  answeredFrame = 0;
  /** Per frame with tasks outstanding: how many, and when one of them was last answered. */
  readonly openFrames = new Map<number, { outstanding: number; answeredAt: number }>();

  /** Tasks leased to this worker right now. */
  get inFlight(): number {
    return this.held;
  }

  /** `count` tasks of `jobId` were leased to this worker. */
  hold(jobId: string, count: number): void {
    this.held += count;
    this.heldByJob.set(jobId, this.holding(jobId) + count);
  }

  /** One task of `jobId` this worker held came back or was taken back. */
  drop(jobId: string): void {
    this.held--;
    const left = this.holding(jobId) - 1;
    if (left > 0) this.heldByJob.set(jobId, left);
    else this.heldByJob.delete(jobId);
  }

  /** Tasks of `jobId` this worker holds. */
  holding(jobId: string): number {
    return this.heldByJob.get(jobId) ?? 0;
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

  constructor(
    readonly id: string,
    readonly link: WorkerLink,
    now: number,
  ) {
    this.connectedAt = now;
    this.lastProgressAt = now;
  }
}

/** Connected workers by id, in connection order (dispatch walks them round-robin). */
export class WorkerRegistry {
  private readonly sessions = new Map<string, WorkerSession>();
  private nextId = 1;

  add(link: WorkerLink, now: number): WorkerSession {
    const session = new WorkerSession(`w${this.nextId++}`, link, now);
    this.sessions.set(session.id, session);
    return session;
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

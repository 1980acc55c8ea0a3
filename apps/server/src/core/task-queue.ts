import type { JobStore, StoredTask } from '../store/job-store.js';

/**
 * Where the tasks of one of several nodes come from (issue 15): claims of batches of queued tasks
 * from the database shared with the other nodes, instead of pages of all of them.
 */
export interface TaskClaimer {
  /** Claims up to `count` queued tasks of the job for this node, in index order. */
  claim(count: number): Promise<StoredTask[]>;
  /**
   * How many tasks to claim at once: what this node's workers can take soon (a node holding
   * more than that keeps them from the other nodes' workers); 0 when it has no worker.
   */
  batch(): number;
}

/** Tasks one of several nodes claims at most at once (a claim is one transaction). */
const MAX_CLAIM = 8192;

/** After a claim failed (the database is unreachable, say): this long before the next. */
const CLAIM_RETRY_MS = 1000;

/** Tasks kept in memory per job; the rest stay in the store until needed. */
const PAGE_SIZE = 4096;
/** Page more in when fewer than this many are buffered. */
const LOW_WATER = 1024;

/**
 * A job's FIFO of runnable tasks. Only a window of the job's tasks is in memory: the rest
 * are paged in from the store as the window drains, so memory stays bounded however many
 * tasks a job holds. Tasks handed back (lost, timed out) go to a retry lane that is served
 * first, so a requeued task is not stuck behind a million fresh ones.
 */
export class TaskQueue {
  private buffer: StoredTask[] = [];
  private head = 0;
  private readonly retry = new Map<number, StoredTask>();
  /** Lowest index not yet paged in from the store. */
  private cursor = 0;
  /** One past the highest index known to be durable in the store. */
  private durableEnd: number;
  private paging: Promise<void> | undefined;
  /** With a claimer: the database may hold queued tasks nobody claimed (see {@link hint}). */
  private unclaimed = true;
  /** Hints so far: one that came while a claim ran keeps {@link unclaimed} set after it. */
  private hints = 0;
  private claimFailedAt = 0;

  constructor(
    private readonly store: JobStore,
    private readonly jobId: string,
    durableTotal: number,
    private readonly claimer?: TaskClaimer,
  ) {
    this.durableEnd = durableTotal;
  }

  get size(): number {
    return this.retry.size + this.buffer.length - this.head;
  }

  /** True when the store holds tasks that are not in memory yet and the window is low. */
  get wantsPage(): boolean {
    if (this.paging) return false;
    if (this.claimer) {
      const batch = this.claimer.batch();
      return (
        batch > 0 &&
        this.unclaimed &&
        this.size < batch / 2 &&
        Date.now() - this.claimFailedAt >= CLAIM_RETRY_MS
      );
    }
    return this.cursor < this.durableEnd && this.buffer.length - this.head < LOW_WATER;
  }

  /**
   * With a claimer: tasks may be claimable (a batch was submitted on any node, claims were taken
   * back): the next pass that finds the window low claims.
   */
  hint(): void {
    this.unclaimed = true;
    this.hints++;
  }

  /**
   * Takes up to `n` tasks: retries first, then in index order. Tasks for which `skip` is true
   * stay queued (for redundancy: a worker never gets a task it already ran).
   */
  take(n: number, skip?: (task: StoredTask) => boolean): StoredTask[] {
    const out: StoredTask[] = [];
    for (const [index, task] of this.retry) {
      if (out.length >= n) return out;
      if (skip?.(task)) continue;
      out.push(task);
      this.retry.delete(index);
    }
    const skipped: StoredTask[] = [];
    while (out.length < n && this.head < this.buffer.length) {
      const task = this.buffer[this.head++]!;
      if (skip?.(task)) skipped.push(task);
      else out.push(task);
    }
    for (const task of skipped) this.retry.set(task.index, task);

    if (this.head > 4096 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Puts a leased task back, ahead of fresh ones. */
  requeue(task: StoredTask): void {
    this.retry.set(task.index, task);
  }

  /**
   * Called once appended tasks are durable; keeps them in memory when they are next in line.
   * `submittedAt`: when they were submitted (their provenance's queued time starts there).
   */
  appended(firstIndex: number, inputs: string[], submittedAt?: number): void {
    if (this.claimer) {
      this.hint(); // in the database, for whichever node claims them first
      return;
    }
    this.durableEnd = Math.max(this.durableEnd, firstIndex + inputs.length);
    if (this.paging || this.cursor !== firstIndex) return;
    const room = Math.max(0, PAGE_SIZE - (this.buffer.length - this.head));
    const count = Math.min(room, inputs.length);
    for (let i = 0; i < count; i++) {
      this.buffer.push(
        submittedAt === undefined
          ? { index: firstIndex + i, input: inputs[i]! }
          : { index: firstIndex + i, input: inputs[i]!, submittedAt },
      );
    }
    this.cursor = firstIndex + count;
  }

  /** Reads the next window from the store. Resolves when done; concurrent calls share one read. */
  pageIn(): Promise<void> {
    this.paging ??= this.readPage().finally(() => (this.paging = undefined));
    return this.paging;
  }

  private async readPage(): Promise<void> {
    if (this.claimer) {
      let rows: StoredTask[];
      const count = Math.min(MAX_CLAIM, this.claimer.batch());
      const hints = this.hints;
      try {
        rows = await this.claimer.claim(count);
      } catch (err) {
        this.claimFailedAt = Date.now();
        console.error(`tabgrid: could not claim tasks of job ${this.jobId}:`, err);
        return;
      }
      for (const row of rows) this.buffer.push(row);
      // A short claim took what there was, unless a hint came meanwhile (a batch committed).
      if (rows.length < count && this.hints === hints) this.unclaimed = false;
      return;
    }
    const end = this.durableEnd;
    const rows = await this.store.readQueued(this.jobId, this.cursor, PAGE_SIZE);
    for (const row of rows) this.buffer.push(row);
    const last = rows[rows.length - 1];
    this.cursor =
      rows.length === PAGE_SIZE && last ? last.index + 1 : Math.max(end, last ? last.index + 1 : 0);
  }
}

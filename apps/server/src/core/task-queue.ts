import { carriedSize } from '@tabgrid/protocol/packed-value';
import type { CarriedValue, JobStore, StoredTask } from '../store/job-store.js';

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
/**
 * Tasks a job's first claim on a node takes at most, before any input's size is known: 16 inputs
 * of 4 MB fill WINDOW_BYTES. The claims after it are sized by what it got.
 */
const FIRST_CLAIM = 16;

/** After a claim failed (the database is unreachable, say): this long before the next. */
const CLAIM_RETRY_MS = 1000;

/** Tasks kept in memory per job; the rest stay in the store until needed. */
const PAGE_SIZE = 4096;
/**
 * Input bytes kept in memory per job, at most (past the first task): 4,096 tasks of 4 MB each
 * would otherwise be 16 GB. Small tasks never reach it (4,096 × 4 KB is 16 MB).
 */
export const WINDOW_BYTES = 64 * 1024 * 1024;
/** Page more in when fewer than this many are buffered. */
const LOW_WATER = 1024;

/**
 * A job's FIFO of runnable tasks. Only a window of the job's tasks is in memory: the rest
 * are paged in from the store as the window drains, so memory stays bounded however many
 * tasks a job holds. Tasks handed back (lost, timed out) go to a retry lane that is served
 * first, so a requeued task is not stuck behind a million fresh ones. The window holds at most
 * PAGE_SIZE tasks and WINDOW_BYTES of inputs; a task taken out of it is no longer referenced.
 * With a claimer (several nodes) claims replace pages: at most MAX_CLAIM tasks each, none while
 * half of WINDOW_BYTES is held, each sized to fit WINDOW_BYTES by the inputs of the claim before
 * (the first takes FIRST_CLAIM); what a claim returns is this node's, so it is all kept, and
 * inputs much larger than the claim before's may pass the bound by that one claim.
 */
export class TaskQueue {
  private buffer: (StoredTask | undefined)[] = [];
  private head = 0;
  /** Input bytes of the tasks in `buffer[head …]`. */
  private bytes = 0;
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
  /** With a claimer: the mean input bytes of the tasks the last claim got (0 before one). */
  private claimedTaskBytes = 0;

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
    if (this.paging || this.bytes >= WINDOW_BYTES / 2) return false;
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

  /** Whether the window may take one more task of `input` (always when it is empty). */
  private hasRoom(input: CarriedValue): boolean {
    if (this.buffer.length - this.head >= PAGE_SIZE) return false;
    return this.bytes === 0 || this.bytes + carriedSize(input) <= WINDOW_BYTES;
  }

  /**
   * With a claimer: how many tasks a claim may take for the window to stay within WINDOW_BYTES,
   * judged by the last claim's inputs (a claim cannot leave tasks in the store as a page does:
   * what it returns is held here); FIRST_CLAIM before any. At least 1.
   */
  private claimRoom(): number {
    if (this.claimedTaskBytes === 0) return FIRST_CLAIM;
    return Math.max(1, Math.floor((WINDOW_BYTES - this.bytes) / this.claimedTaskBytes));
  }

  private keep(task: StoredTask): void {
    this.buffer.push(task);
    this.bytes += carriedSize(task.input);
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
      const task = this.buffer[this.head]!;
      // Taken tasks go out of the window at once (a 4 MB input must not wait for a compaction).
      this.buffer[this.head++] = undefined;
      this.bytes -= carriedSize(task.input);
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
  appended(firstIndex: number, inputs: CarriedValue[], submittedAt?: number): void {
    if (this.claimer) {
      this.hint(); // in the database, for whichever node claims them first
      return;
    }
    this.durableEnd = Math.max(this.durableEnd, firstIndex + inputs.length);
    if (this.paging || this.cursor !== firstIndex) return;
    let count = 0;
    while (count < inputs.length && this.hasRoom(inputs[count]!)) {
      const input = inputs[count]!;
      const index = firstIndex + count++;
      this.keep(submittedAt === undefined ? { index, input } : { index, input, submittedAt });
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
      const count = Math.min(MAX_CLAIM, this.claimer.batch(), this.claimRoom());
      const hints = this.hints;
      try {
        rows = await this.claimer.claim(count);
      } catch (err) {
        this.claimFailedAt = Date.now();
        console.error(`tabgrid: could not claim tasks of job ${this.jobId}:`, err);
        return;
      }
      // Claimed tasks are this node's until settled or taken back: all of them stay in the
      // window, which claimRoom sized by the inputs claimed before.
      let claimedBytes = 0;
      for (const row of rows) {
        this.keep(row);
        claimedBytes += carriedSize(row.input);
      }
      if (rows.length > 0) this.claimedTaskBytes = claimedBytes / rows.length;
      // A short claim took what there was, unless a hint came meanwhile (a batch committed).
      if (rows.length < count && this.hints === hints) this.unclaimed = false;
      return;
    }
    const end = this.durableEnd;
    const rows = await this.store.readQueued(this.jobId, this.cursor, PAGE_SIZE);
    let kept = 0;
    while (kept < rows.length && this.hasRoom(rows[kept]!.input)) this.keep(rows[kept++]!);
    // Past the byte bound the rest stay in the store: the next page starts at the first of them.
    if (kept < rows.length) {
      this.cursor = rows[kept]!.index;
      return;
    }
    const last = rows[rows.length - 1];
    this.cursor =
      rows.length === PAGE_SIZE && last ? last.index + 1 : Math.max(end, last ? last.index + 1 : 0);
  }
}

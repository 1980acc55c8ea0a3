import type { JobStore, StoredTask } from '../store/job-store.js';

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

  constructor(
    private readonly store: JobStore,
    private readonly jobId: string,
    durableTotal: number,
  ) {
    this.durableEnd = durableTotal;
  }

  get size(): number {
    return this.retry.size + this.buffer.length - this.head;
  }

  /** True when the store holds tasks that are not in memory yet and the window is low. */
  get wantsPage(): boolean {
    return (
      !this.paging && this.cursor < this.durableEnd && this.buffer.length - this.head < LOW_WATER
    );
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
    const end = this.durableEnd;
    const rows = await this.store.readQueued(this.jobId, this.cursor, PAGE_SIZE);
    for (const row of rows) this.buffer.push(row);
    const last = rows[rows.length - 1];
    this.cursor =
      rows.length === PAGE_SIZE && last ? last.index + 1 : Math.max(end, last ? last.index + 1 : 0);
  }
}

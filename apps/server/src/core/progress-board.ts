/**
 * The latest progress of every running task, in memory only (progress has no cursor: a reader
 * that comes back gets a fresh snapshot). One entry per leased task that reported `started` or
 * called `progress()`, so the board holds at most the tasks in flight; an entry goes when its
 * task settles or its lease is taken back ({@link ProgressBoard.sweep} drops those whose lease
 * went another way: a disconnect, a cancel, a swallowed frame).
 *
 * Listeners ({@link ProgressBoard.onChange}) are told at most every {@link PROGRESS_PUSH_MS},
 * by one timer for all jobs that runs only while some changed job has a listener: a tight
 * `progress()` loop on a thousand tasks costs one call per listener per 250 ms.
 */
import type { Clock, TimerHandle } from './clock.js';
import type { JobDirectory } from './job-directory.js';

/** Listeners of a job's progress hear about its changes at most this often. */
export const PROGRESS_PUSH_MS = 250;

/** One running task's latest progress, as the SDK's `job.progress()` yields it. */
export interface TaskProgressView {
  index: number;
  /** 0..1; absent for an "alive" report or a task that only started. */
  fraction?: number;
  workerId: string;
  /** When it was last heard from (ISO). */
  at: string;
}

/** What the board keeps per running task. */
interface Entry {
  /** 0..1, or undefined for "alive" / only started. */
  fraction: number | undefined;
  workerId: string;
  /** Last `started` or progress (epoch ms): the progress timeout's clock. */
  heardAt: number;
}

/** A running task that has gone quiet. */
export interface SilentTask {
  index: number;
  workerId: string;
  heardAt: number;
}

/** Told (coalesced) that some tasks of the job changed: the changed entries' latest values. */
export type ProgressListener = (changed: readonly TaskProgressView[]) => void;

export class ProgressBoard {
  private readonly tasks = new Map<string, Map<number, Entry>>();
  /** Entries in all jobs: settlement checks this once per batch, and skips the board at 0. */
  private entries = 0;
  private readonly listeners = new Map<string, Set<ProgressListener>>();
  /** Per job with a listener, the indexes changed since the last push. */
  private readonly dirty = new Map<string, Set<number>>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    /** The jobs and their leases (the board only reads them). */
    private readonly jobs: Pick<JobDirectory, 'findJob'>,
  ) {}

  /** Entries on the board (0: nothing runs with progress, settlement does no lookups). */
  get size(): number {
    return this.entries;
  }

  /** Jobs that have entries right now (the stall check's progress timeout walks these). */
  jobIds(): IterableIterator<string> {
    return this.tasks.keys();
  }

  /** Task `index` began running on a thread of `workerId` (the page says so): its clock starts. */
  started(jobId: string, index: number, workerId: string): void {
    const entry = this.entry(jobId, index, workerId);
    entry.heardAt = this.clock.now();
    this.changed(jobId, index);
  }

  /** Task `index` reported progress: `fraction` 0..1, or null for "alive". */
  progress(jobId: string, index: number, workerId: string, fraction: number | null): void {
    const entry = this.entry(jobId, index, workerId);
    entry.heardAt = this.clock.now();
    if (fraction !== null) entry.fraction = fraction;
    this.changed(jobId, index);
  }

  /** When task `index` was last heard from (epoch ms), if it is on the board. */
  lastHeard(jobId: string, index: number): number | undefined {
    return this.tasks.get(jobId)?.get(index)?.heardAt;
  }

  /** The job's tasks last heard from before `before` (epoch ms): the progress timeout's catch. */
  silentSince(jobId: string, before: number): SilentTask[] {
    const out: SilentTask[] = [];
    for (const [index, entry] of this.tasks.get(jobId) ?? []) {
      if (entry.heardAt < before)
        out.push({ index, workerId: entry.workerId, heardAt: entry.heardAt });
    }
    return out;
  }

  /** The worker whose progress task `index` last reported, if it is on the board. */
  reportedBy(jobId: string, index: number): string | undefined {
    return this.tasks.get(jobId)?.get(index)?.workerId;
  }

  /** Every running task of the job that has reported, in index order (≤ `limit`). */
  snapshot(jobId: string, limit = Infinity): TaskProgressView[] {
    const tasks = this.tasks.get(jobId);
    if (!tasks) return [];
    const out: TaskProgressView[] = [];
    for (const [index, entry] of tasks) {
      if (out.length >= limit) break;
      out.push(view(index, entry));
    }
    return out.sort((a, b) => a.index - b.index);
  }

  /**
   * Calls `listener` with the job's changed tasks at most every {@link PROGRESS_PUSH_MS};
   * returns the unsubscribe function. (A reader starts from {@link snapshot}.)
   */
  onChange(jobId: string, listener: ProgressListener): () => void {
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(listener);
    return () => {
      const current = this.listeners.get(jobId);
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(jobId);
      this.dirty.delete(jobId);
    };
  }

  /** Tasks of the job settled: their entries go (nothing to do for a job without entries). */
  settled(jobId: string, indexes: readonly { index: number }[]): void {
    const tasks = this.tasks.get(jobId);
    if (!tasks) return;
    for (const { index } of indexes) {
      if (tasks.delete(index)) this.entries--;
    }
    if (tasks.size === 0) this.tasks.delete(jobId);
  }

  /** Task `index`'s lease was taken back: its entry goes. */
  drop(jobId: string, index: number): void {
    const tasks = this.tasks.get(jobId);
    if (!tasks?.delete(index)) return;
    this.entries--;
    if (tasks.size === 0) this.tasks.delete(jobId);
  }

  /**
   * Drops every entry whose task is no longer leased to the worker that reported it (its lease
   * ended some way the board was not told: a disconnect, a cancel, a deleted job). The stall
   * check runs it every second; it walks only the entries there are.
   */
  sweep(): void {
    for (const [jobId, tasks] of this.tasks) {
      const job = this.jobs.findJob(jobId);
      for (const [index, entry] of tasks) {
        if (job?.held.heldBy(index, entry.workerId)) continue;
        tasks.delete(index);
        this.entries--;
      }
      if (tasks.size === 0) this.tasks.delete(jobId);
    }
  }

  /** Stops the push timer and forgets every listener. */
  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.listeners.clear();
    this.dirty.clear();
  }

  private entry(jobId: string, index: number, workerId: string): Entry {
    let tasks = this.tasks.get(jobId);
    if (!tasks) this.tasks.set(jobId, (tasks = new Map<number, Entry>()));
    let entry = tasks.get(index);
    if (!entry) {
      tasks.set(index, (entry = { fraction: undefined, workerId, heardAt: 0 }));
      this.entries++;
    } else if (entry.workerId !== workerId) {
      // Another worker runs it now (a redundancy replica, or a rerun): its progress starts over.
      entry.workerId = workerId;
      entry.fraction = undefined;
    }
    return entry;
  }

  /** Marks a change for the job's listeners, arming the push timer if none is armed. */
  private changed(jobId: string, index: number): void {
    if (!this.listeners.has(jobId)) return;
    let set = this.dirty.get(jobId);
    if (!set) this.dirty.set(jobId, (set = new Set()));
    set.add(index);
    this.timer ??= this.clock.setTimeout(() => this.push(), PROGRESS_PUSH_MS);
  }

  private push(): void {
    this.timer = undefined;
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const [jobId, indexes] of dirty) {
      const tasks = this.tasks.get(jobId);
      const changed: TaskProgressView[] = [];
      for (const index of indexes) {
        const entry = tasks?.get(index);
        if (entry) changed.push(view(index, entry));
      }
      if (changed.length === 0) continue; // settled meanwhile: nothing to tell
      for (const listener of this.listeners.get(jobId) ?? []) {
        try {
          listener(changed);
        } catch (err) {
          console.error(`tabgrid: a progress listener of job ${jobId} failed:`, err);
        }
      }
    }
  }
}

function view(index: number, entry: Entry): TaskProgressView {
  const at = new Date(entry.heardAt).toISOString();
  return entry.fraction === undefined
    ? { index, workerId: entry.workerId, at }
    : { index, fraction: entry.fraction, workerId: entry.workerId, at };
}

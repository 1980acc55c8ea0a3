import type { ThreadTask } from '@tabgrid/job-runtime/sandbox-protocol';
import type { Chunk, LocalJob } from '../sandbox/chunk';

/**
 * Most tasks handed to a thread at once. Page ↔ thread messages cross processes (the sandbox
 * iframe runs out of process in Chromium) and each costs ~0.2 ms of CPU on either side, so
 * tiny tasks need big chunks. Slower tasks get smaller chunks through TARGET_CHUNK_MS.
 */
export const MAX_CHUNK = 4096;
/** Chunk size for a job before any of its tasks has been timed. */
export const FIRST_CHUNK = 8;
/** Aim for chunks that take about this long, so slow tasks spread across threads. */
export const TARGET_CHUNK_MS = 50;
/** A thread keeps to its loaded job unless another job has waited this long for a thread. */
export const STICKY_MS = 200;

interface JobQueue {
  job: LocalJob;
  tasks: ThreadTask[];
  /** Tasks before `head` were taken; the array is compacted now and then, not per take. */
  head: number;
  /**
   * Tasks that were in flight when a thread timed out without saying which one hung: they
   * run again first, in exact chunks (a flush after every task) that pin the culprit down.
   */
  suspects: ThreadTask[];
  /** When this job was last given a thread, or when its queue last became non-empty. */
  servedAt: number;
  /** Moving average of one task's compute time, once known. */
  avgMs: number | undefined;
}

function pending(queue: JobQueue): number {
  return queue.tasks.length - queue.head + queue.suspects.length;
}

/**
 * Sizes a chunk: small enough that every thread gets a share of a short queue and that slow
 * tasks do not pile up behind each other, large enough that tiny tasks cost few messages.
 */
export function chunkSize(queued: number, threads: number, avgMs: number | undefined): number {
  if (avgMs === undefined) return Math.max(1, Math.min(FIRST_CHUNK, queued));
  const perTask = Math.max(avgMs, 1e-3);
  const share = Math.ceil(queued / Math.max(1, threads));
  const byTime = Math.floor(TARGET_CHUNK_MS / perTask);
  return Math.max(1, Math.min(MAX_CHUNK, share, byTime, queued));
}

/**
 * The page's local task queue: FIFO per job; jobs share threads oldest-served first, while a
 * thread sticks to the job its realm has loaded (switching jobs costs a fresh worker).
 */
export class TaskQueue {
  private readonly jobs = new Map<number, JobQueue>();
  private queued = 0;

  get size(): number {
    return this.queued;
  }

  has(jobKey: number): boolean {
    return this.jobs.has(jobKey);
  }

  /** Makes a job known; tasks of unknown jobs are never queued. */
  addJob(job: LocalJob): void {
    if (this.jobs.has(job.key)) return;
    const queue = { job, tasks: [], head: 0, suspects: [], servedAt: 0, avgMs: undefined };
    this.jobs.set(job.key, queue);
  }

  push(job: LocalJob, tasks: readonly ThreadTask[], now: number): void {
    const queue = this.jobs.get(job.key);
    if (!queue || tasks.length === 0) return;
    if (pending(queue) === 0) queue.servedAt = now;
    if (queue.head === queue.tasks.length) {
      queue.tasks = [];
      queue.head = 0;
    }
    for (const task of tasks) queue.tasks.push(task);
    this.queued += tasks.length;
  }

  /** Puts unrun tasks back at the front of their job's queue; `suspect` ones run exactly. */
  unshift(job: LocalJob, tasks: readonly ThreadTask[], suspect = false): void {
    const queue = this.jobs.get(job.key);
    if (!queue || tasks.length === 0) return;
    if (suspect) {
      queue.suspects = [...tasks, ...queue.suspects];
    } else {
      queue.tasks = [...tasks, ...queue.tasks.slice(queue.head)];
      queue.head = 0;
    }
    this.queued += tasks.length;
  }

  /** The next chunk for a thread that has `preferKey` loaded, or undefined when empty. */
  take(preferKey: number | undefined, threads: number, now: number): Chunk | undefined {
    let pick: JobQueue | undefined;
    for (const queue of this.jobs.values()) {
      if (pending(queue) === 0) continue;
      if (!pick || queue.servedAt < pick.servedAt) pick = queue;
    }
    if (!pick) return undefined;
    const preferred = preferKey === undefined ? undefined : this.jobs.get(preferKey);
    if (preferred && pending(preferred) > 0 && now - pick.servedAt < STICKY_MS) pick = preferred;
    pick.servedAt = now;
    if (pick.suspects.length > 0) {
      const tasks = pick.suspects.splice(0, MAX_CHUNK);
      this.queued -= tasks.length;
      return { job: pick.job, tasks, exact: true };
    }
    const size = chunkSize(pick.tasks.length - pick.head, threads, pick.avgMs);
    const tasks = pick.tasks.slice(pick.head, pick.head + size);
    pick.head += size;
    this.queued -= size;
    if (pick.head > 4096 && pick.head * 2 > pick.tasks.length) {
      pick.tasks = pick.tasks.slice(pick.head);
      pick.head = 0;
    }
    return { job: pick.job, tasks, exact: false };
  }

  /** Learns how long this job's tasks take, to size its chunks. */
  recordTiming(job: LocalJob, count: number, ms: number): void {
    const queue = this.jobs.get(job.key);
    if (!queue || count <= 0) return;
    const perTask = ms / count;
    queue.avgMs = queue.avgMs === undefined ? perTask : queue.avgMs * 0.8 + perTask * 0.2;
  }

  /** Forgets a job; returns how many of its tasks were still queued. */
  removeJob(jobKey: number): number {
    const queue = this.jobs.get(jobKey);
    if (!queue) return 0;
    const dropped = pending(queue);
    this.queued -= dropped;
    this.jobs.delete(jobKey);
    return dropped;
  }

  /** Empties the queue (jobs stay known); returns what was queued, per job. */
  drain(): Chunk[] {
    const drained: Chunk[] = [];
    for (const queue of this.jobs.values()) {
      if (pending(queue) > 0) {
        const tasks = [...queue.suspects, ...queue.tasks.slice(queue.head)];
        drained.push({ job: queue.job, tasks, exact: false });
      }
      queue.tasks = [];
      queue.head = 0;
      queue.suspects = [];
    }
    this.queued = 0;
    return drained;
  }

  /** Forgets everything (the connection, and with it every job, is gone). */
  clear(): void {
    this.jobs.clear();
    this.queued = 0;
  }
}

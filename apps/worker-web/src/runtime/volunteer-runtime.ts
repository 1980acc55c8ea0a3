import type { WorkerToServer } from '@tabgrid/protocol/worker';
import {
  WorkerConnection,
  type ConnectionStatus,
  type ServerCancelMessage,
  type ServerJobMessage,
  type ServerTasksMessage,
} from '../connection/worker-connection';
import type { ThreadTask } from '../sandbox/sandbox-protocol';
import { ThreadPool, type Chunk, type LocalJob } from '../sandbox/thread-pool';
import { clampThreads } from '../page-options';
import { OutcomeBuffer, flushThreshold } from './outcome-buffer';
import { TaskQueue } from './task-queue';
import { ThroughputMeter } from './throughput-meter';

/** Slots granted to the server per thread: deep enough to keep threads busy on tiny tasks. */
export const SLOTS_PER_THREAD = 256;
/** How often counters are pushed to the UI (never per task). */
const STATS_INTERVAL_MS = 500;

interface TaskGroup {
  jobId: string;
  tasks: readonly ThreadTask[];
}

function groupsOf(chunks: readonly Chunk[]): TaskGroup[] {
  return chunks.map(({ job, tasks }) => ({ jobId: job.jobId, tasks }));
}

export interface RuntimeSnapshot {
  connection: ConnectionStatus;
  paused: boolean;
  threads: number;
  tasksDone: number;
  tasksFailed: number;
  tasksPerSecond: number;
  currentJobId: string | undefined;
}

/**
 * The volunteer tab's engine: takes tasks from the connection, queues them, feeds the sandbox
 * threads, batches outcomes back and keeps the credit books. Credit is conserved: every slot
 * granted to the server is either held by a task here, or returned (outcome, cancel), or
 * withheld while paused and granted again on resume. `release` returns tasks, not slots.
 */
export class VolunteerRuntime {
  private readonly queue = new TaskQueue();
  private readonly buffer = new OutcomeBuffer(
    (frame) => this.connection.sendText(frame),
    undefined,
    () => this.queue.size > 0 || this.pool.runningTasks().length > 0,
  );

  private readonly meter = new ThroughputMeter();
  private readonly jobs = new Map<string, LocalJob>();
  private readonly connection: WorkerConnection;
  private readonly pool: ThreadPool;
  private readonly listeners = new Set<() => void>();
  private nextJobKey = 1;
  private withheld = 0;
  private status: ConnectionStatus = { state: 'stopped' };
  private tasksDone = 0;
  private tasksFailed = 0;
  private currentJobId: string | undefined;
  private snapshot: RuntimeSnapshot;

  constructor(
    url: string,
    private threads: number,
    private paused: boolean,
  ) {
    this.connection = new WorkerConnection(url, {
      onOpen: () => this.onOpen(),
      onJob: (message) => this.onJob(message),
      onTasks: (message) => this.onTasks(message),
      onCancel: (message) => this.onCancel(message),
      onClose: () => this.onClose(),
      onStatus: (status) => {
        this.status = status;
        this.emit();
      },
    });
    this.pool = new ThreadPool(threads, {
      takeChunk: (loadedJobKey) => this.takeChunk(loadedJobKey),
      onOutcomes: (job, outcomes, failures, ms) => this.onOutcomes(job, outcomes, failures, ms),
      onRequeue: (job, tasks, suspect) => this.onRequeue(job, tasks, suspect),
    });
    this.snapshot = this.buildSnapshot(0);
  }

  /** Connects and hands tasks back when the page goes away. */
  start(): void {
    window.addEventListener('pagehide', () => this.onPageHide());
    window.addEventListener('pageshow', (event: PageTransitionEvent) => {
      if (event.persisted) this.connection.start();
    });
    setInterval(() => this.emit(), STATS_INTERVAL_MS);
    this.connection.start();
  }

  /** Stops starting tasks and hands queued ones back; running tasks finish and report. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.withheld += this.buffer.takeCredit();
    this.withheld += this.release(groupsOf(this.queue.drain()));
    this.emit();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.buffer.addCredit(this.withheld);
    this.withheld = 0;
    this.buffer.flush();
    this.pool.pump();
    this.emit();
  }

  setThreads(requested: number): void {
    const threads = clampThreads(requested);
    if (threads === this.threads) return;
    this.threads = threads;
    const url = new URL(window.location.href);
    url.searchParams.set('threads', String(threads));
    window.history.replaceState(null, '', url);
    const reannounce = this.status.state === 'connected' || this.status.state === 'connecting';
    if (reannounce) this.handBackEverything();
    this.pool.resize(threads);
    // The thread count (and so the credit) is part of `hello`: simplest is to say hello again.
    if (reannounce) this.connection.restart('thread count changed');
    this.emit();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): RuntimeSnapshot => this.snapshot;

  private get capacity(): number {
    return this.threads * SLOTS_PER_THREAD;
  }

  private onOpen(): { threads: number; credit: number } {
    this.buffer.flushAt = flushThreshold(this.capacity);
    this.withheld = this.paused ? this.capacity : 0;
    return { threads: this.threads, credit: this.paused ? 0 : this.capacity };
  }

  private onJob(message: ServerJobMessage): void {
    if (this.jobs.has(message.jobId)) return;
    const { jobId, program, args, timeoutMs } = message;
    const job: LocalJob = { key: this.nextJobKey++, jobId, program, args, timeoutMs };
    this.jobs.set(jobId, job);
    this.queue.addJob(job);
  }

  private onTasks(message: ServerTasksMessage): void {
    const job = this.jobs.get(message.jobId);
    if (!job) {
      console.error(
        `[tabgrid] tasks for job ${message.jobId} arrived before its program; handing them back`,
      );
      this.release([{ jobId: message.jobId, tasks: message.items }]);
      this.free(message.items.length);
      this.buffer.flush();
      return;
    }
    if (this.paused) {
      // Credit granted before the pause is still being used: hand these straight back.
      this.withheld += this.release([{ jobId: job.jobId, tasks: message.items }]);
      return;
    }
    this.queue.push(job, message.items, performance.now());
    this.pool.pump();
  }

  private onCancel(message: ServerCancelMessage): void {
    const job = this.jobs.get(message.jobId);
    if (!job) return;
    this.jobs.delete(message.jobId);
    let dropped = this.queue.removeJob(job.key);
    for (const chunk of this.pool.abort(job.key)) dropped += chunk.tasks.length;
    this.free(dropped);
    this.buffer.flush();
    this.pool.pump();
  }

  /** The socket is gone: its jobs, leases and credit went with it (the server re-queues). */
  private onClose(): void {
    this.jobs.clear();
    this.queue.clear();
    this.pool.abort();
    this.buffer.clear();
    this.withheld = 0;
    this.currentJobId = undefined;
  }

  private takeChunk(loadedJobKey: number | undefined): Chunk | undefined {
    if (this.paused || !this.connection.isOpen) return undefined;
    const chunk = this.queue.take(loadedJobKey, this.pool.size, performance.now());
    if (chunk) this.currentJobId = chunk.job.jobId;
    return chunk;
  }

  private onOutcomes(job: LocalJob, outcomes: string[], failures: number, ms: number): void {
    if (this.jobs.get(job.jobId) !== job) return;
    this.tasksDone += outcomes.length;
    this.tasksFailed += failures;
    this.queue.recordTiming(job, outcomes.length, ms);
    this.free(outcomes.length);
    this.buffer.add(outcomes);
  }

  private onRequeue(job: LocalJob, tasks: ThreadTask[], suspect: boolean): void {
    if (this.jobs.get(job.jobId) !== job) return;
    if (this.paused) this.withheld += this.release([{ jobId: job.jobId, tasks }]);
    else this.queue.unshift(job, tasks, suspect);
  }

  private onPageHide(): void {
    // Hand back everything at once so the server re-dispatches now, not when a lease expires.
    this.handBackEverything();
    this.connection.stop('pagehide');
  }

  /** Sends finished outcomes, then releases every queued and running task. */
  private handBackEverything(): void {
    this.buffer.flush();
    this.release(groupsOf([...this.queue.drain(), ...this.pool.runningTasks()]));
    this.pool.abort();
  }

  /** Frees slots: granted back to the server, unless paused (then kept until resume). */
  private free(slots: number): void {
    if (slots <= 0) return;
    if (this.paused) this.withheld += slots;
    else this.buffer.addCredit(slots);
  }

  /** Sends a `release` for these tasks; returns how many. */
  private release(groups: readonly TaskGroup[]): number {
    const tasks: { jobId: string; index: number }[] = [];
    for (const { jobId, tasks: group } of groups) {
      for (const task of group) tasks.push({ jobId, index: task.index });
    }
    if (tasks.length > 0) this.send({ type: 'release', tasks });
    return tasks.length;
  }

  private send(message: WorkerToServer): void {
    this.connection.send(message);
  }

  private buildSnapshot(tasksPerSecond: number): RuntimeSnapshot {
    return {
      connection: this.status,
      paused: this.paused,
      threads: this.threads,
      tasksDone: this.tasksDone,
      tasksFailed: this.tasksFailed,
      tasksPerSecond,
      currentJobId: this.currentJobId,
    };
  }

  private emit(): void {
    const rate = this.meter.sample(performance.now(), this.tasksDone);
    this.snapshot = this.buildSnapshot(rate);
    for (const listener of this.listeners) listener();
  }
}

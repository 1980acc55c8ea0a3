import type { OperatorInfo, WorkerCapabilities } from '@tabgrid/protocol/jobs';
import { TASK_LIMITS, seriesJobLimitMessage } from '@tabgrid/protocol/task-reports';
import { WORKER_LIMITS, type WorkerToServer } from '@tabgrid/protocol/worker';
import {
  WorkerConnection,
  type ConnectionStatus,
  type ServerCancelMessage,
  type ServerJobMessage,
  type ServerLimitMessage,
  type ServerMessagesMessage,
  type ServerTasksMessage,
} from '../connection/worker-connection';
import type { ThreadTask } from '@tabgrid/job-runtime/sandbox-protocol';
import type { Chunk, LocalJob } from '../sandbox/chunk';
import type { ThreadHost } from '../sandbox/thread-host';
import { DutyCycle } from '../sandbox/duty-cycle';
import { ThreadPool } from '../sandbox/thread-pool';
import type { OnOutcomes } from '../sandbox/results-check';
import { clampThreads } from '../page-options';
import {
  groupsOf,
  type HoldReason,
  type RuntimeExtras,
  type RuntimeSnapshot,
  type TaskGroup,
} from './runtime-snapshot';
import { CreditBook } from './credit-book';
import { MonitorSampler } from './monitor-sampler';
import { OutcomeBuffer, flushThreshold } from './outcome-buffer';
import { ReportBuffer } from './report-buffer';
import { keepMessages, localJobOf } from './local-job';
import { TabHolds } from './tab-holds';
import { TaskQueue } from './task-queue';
import { ThroughputMeter } from './throughput-meter';

/** How often counters are pushed to the UI (never per task). */
const STATS_INTERVAL_MS = 500;

export type { CurrentJob, HoldReason, RuntimeExtras, RuntimeSnapshot } from './runtime-snapshot';

/**
 * The volunteer tab's engine: takes tasks from the connection, queues them, feeds the sandbox
 * threads, batches outcomes back and keeps the credit books ({@link CreditBook}): every slot
 * granted to the server is held by a task here or comes back (outcome, cancel, release) and
 * is granted again as long as the book's target allows. `release` returns tasks, not slots.
 */
export class VolunteerRuntime {
  private readonly queue = new TaskQueue();
  /** What job code logged, emitted, reported: always sent before the outcomes that follow it. */
  private readonly reports = new ReportBuffer((frame) => this.connection.sendText(frame));
  private readonly buffer = new OutcomeBuffer(
    (frame) => {
      if (!this.reports.empty) this.reports.flush();
      this.connection.sendText(frame);
    },
    undefined,
    () => this.queue.size > 0 || this.pool.runningTasks().length > 0,
  );

  private readonly meter = new ThroughputMeter();
  private readonly jobs = new Map<string, LocalJob>();
  /**
   * Jobs this connection was told to leave (done, cancelled, deleted): their threads' Teardown
   * lines are still the server's to hear. A report of a job of a closed connection is not.
   */
  private readonly leftJobs = new Set<LocalJob>();
  private readonly connection: WorkerConnection;
  private readonly pool: ThreadPool;
  private readonly listeners = new Set<() => void>();
  private readonly credit: CreditBook;
  private readonly sampler: MonitorSampler;
  private nextJobKey = 1;
  private status: ConnectionStatus = { state: 'stopped' };
  private tasksDone = 0;
  private tasksFailed = 0;
  private currentJobId: string | undefined;
  private snapshot: RuntimeSnapshot;
  private readonly holds: TabHolds;
  private readonly duty = new DutyCycle(() => this.pool.pump()); // the CPU cap's rests
  private cpuCap: number;
  private operator: OperatorInfo | undefined;
  private get paused(): boolean {
    return this.holds.paused;
  }

  /** `threadHost` starts the job threads: the page's WebWorkerThreadHost (main.tsx). */
  constructor(
    url: string,
    private threads: number,
    paused: boolean,
    threadHost: ThreadHost,
    private readonly extras: RuntimeExtras = {},
  ) {
    this.holds = new TabHolds(paused);
    this.cpuCap = extras.cpuCap ?? 100;
    this.connection = new WorkerConnection(url, {
      onOpen: () => this.onOpen(),
      onJob: (message) => this.onJob(message),
      onTasks: (message, binary) => this.onTasks(message, binary),
      onCancel: (message) => this.onCancel(message),
      onMessages: (message) => this.onMessages(message),
      onLimit: (message) => this.onLimit(message),
      onClose: () => this.onClose(),
      onStatus: (status) => {
        this.status = status;
        if (status.state === 'connected') this.operator = status.operator;
        this.emit();
      },
    });
    this.pool = new ThreadPool(
      threads,
      {
        takeChunk: (loadedJobKey) => this.takeChunk(loadedJobKey),
        queued: () => this.queue.size,
        onOutcomes: (...outcomes) => this.onOutcomes(...outcomes),
        onRequeue: (job, tasks, suspect) => this.onRequeue(job, tasks, suspect),
        // The tasks concerned were already failed with the reason; the server is told too, so a
        // job whose code keeps tampering with its sandbox on volunteers' tabs is paused.
        onFault: (job, reason) => {
          this.connection.send({
            type: 'fault',
            jobId: job.jobId,
            kind: 'sandbox-violation',
            detail: reason.slice(0, WORKER_LIMITS.maxFaultDetailLength),
          });
          this.emit();
        },
        onReport: (job, tel, jobOnly) => this.onReport(job, tel, jobOnly),
        onStarted: (job, index) => this.reports.started(job.jobId, index),
        resting: this.duty.resting,
        chunkDone: this.duty.chunkDone,
      },
      threadHost,
    );
    this.sampler = new MonitorSampler(
      () => this.pool.takeBusyMs(),
      (sample) => this.connection.send(sample),
    );
    this.credit = new CreditBook(threads);
    this.credit.paused = paused;
    this.credit.duty = this.cpuCap / 100;
    this.duty.set(this.cpuCap / 100);
    this.snapshot = this.buildSnapshot(0);
  }

  /** Connects and hands tasks back when the page goes away. */
  start(): void {
    window.addEventListener('pagehide', () => this.onPageHide());
    window.addEventListener('pageshow', (event: PageTransitionEvent) => {
      if (event.persisted) this.connection.start();
    });
    setInterval(() => this.emit(), STATS_INTERVAL_MS);
    this.sampler.start();
    this.connection.start();
  }

  /** The volunteer's Pause: stops starting tasks, hands queued ones back; running ones finish. */
  pause = (): void => this.hold('user', true);
  resume = (): void => this.hold('user', false);

  /** Holds off for `reason`, or stops holding for it (see TabHolds). */
  hold(reason: HoldReason, on: boolean): void {
    const change = this.holds.change(reason, on);
    if (change === 'start') this.startTaking();
    else if (change !== undefined) this.stopTaking(change === 'stop-running');
    this.emit();
  }

  /** Caps each thread's CPU use at `percent` by duty cycle; hands back what it now cannot run soon. */
  setCpuCap(percent: number): void {
    const cap = Math.min(100, Math.max(1, Math.round(percent)));
    if (cap === this.cpuCap) return;
    this.cpuCap = cap;
    this.credit.duty = cap / 100;
    this.duty.set(cap / 100);
    this.pool.pump();
    if (!this.paused && this.connection.isOpen) {
      this.free(this.release(groupsOf(this.queue.drain()))); // sized for the old cap
      this.buffer.flush();
    }
    this.emit();
  }

  private stopTaking(running: boolean): void {
    this.credit.paused = true;
    this.credit.returned(this.buffer.takeCredit());
    const unrun = [...this.queue.drain(), ...(running ? this.pool.abort() : [])];
    this.credit.returned(this.release(groupsOf(unrun)));
    // Idle threads leave their job (its Teardown runs); with `running`, all of them did.
    if (!running) this.pool.abort(undefined, true);
  }

  private startTaking(): void {
    this.credit.paused = false;
    this.buffer.addCredit(this.credit.topUp());
    this.buffer.flush();
    this.pool.pump();
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

  private onOpen(): { threads: number; credit: number; capabilities?: WorkerCapabilities } {
    const credit = this.credit.open(this.threads);
    this.buffer.flushAt = flushThreshold(credit);
    return {
      threads: this.threads,
      credit,
      ...(this.extras.capabilities ? { capabilities: this.extras.capabilities } : {}),
    };
  }

  private onJob(message: ServerJobMessage): void {
    if (this.jobs.has(message.jobId)) return;
    const job = localJobOf(message, this.nextJobKey++);
    this.jobs.set(job.jobId, job);
    this.queue.addJob(job);
  }

  private onTasks(message: ServerTasksMessage, binary: boolean): void {
    const job = this.jobs.get(message.jobId);
    if (job && binary) job.liveInputs = true;
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
      this.credit.returned(this.release([{ jobId: job.jobId, tasks: message.items }]));
      return;
    }
    this.queue.push(job, message.items, performance.now());
    this.pool.pump();
  }

  private onCancel(message: ServerCancelMessage): void {
    const job = this.jobs.get(message.jobId);
    if (!job) return;
    this.jobs.delete(message.jobId);
    this.leftJobs.add(job);
    this.reports.forgetTasks(job.jobId);
    if (this.leftJobs.size > 64) this.leftJobs.delete(this.leftJobs.values().next().value!);
    let dropped = this.queue.removeJob(job.key);
    for (const chunk of this.pool.abort(job.key)) dropped += chunk.tasks.length;
    this.free(dropped);
    this.buffer.flush();
    this.pool.pump();
  }

  /** `job.tell()` messages: kept for threads that load the job later, passed to those running it. */
  private onMessages(message: ServerMessagesMessage): void {
    const job = this.jobs.get(message.jobId);
    if (job) keepMessages(job, message.items, (seq, json) => this.pool.tell(job, seq, json));
  }

  private onReport(job: LocalJob, tel: string, jobOnly = false): void {
    if (this.jobs.get(job.jobId) === job) this.reports.add(job.jobId, tel, jobOnly);
    else if (this.leftJobs.has(job)) this.reports.add(job.jobId, tel, true);
  }

  private onLimit(message: ServerLimitMessage): void {
    const job = this.jobs.get(message.jobId);
    if (!job || job.seriesFull !== '') return;
    job.seriesFull = seriesJobLimitMessage(
      message.maxBytes ?? TASK_LIMITS.defaultMaxSeriesBytesPerJob,
    );
    this.pool.limit(job);
  }

  /** The socket is gone: its jobs, leases and credit went with it (the server re-queues). */
  private onClose(): void {
    this.jobs.clear();
    this.queue.clear();
    this.pool.abort();
    this.buffer.clear();
    this.reports.clear();
    this.leftJobs.clear();
    this.credit.close();
    this.currentJobId = undefined;
  }

  private takeChunk(loadedJobKey: number | undefined): Chunk | undefined {
    if (this.paused || !this.connection.isOpen) return undefined;
    const chunk = this.queue.take(loadedJobKey, this.pool.size, performance.now());
    if (chunk) this.currentJobId = chunk.job.jobId;
    return chunk;
  }

  private onOutcomes: OnOutcomes = (job, outcomes, count, failures, ms, attachments) => {
    if (this.jobs.get(job.jobId) !== job) return;
    this.tasksDone += count;
    this.tasksFailed += failures;
    this.extras.ledger?.add(count, ms);
    this.sampler.record(job.jobId, count, ms);
    this.queue.recordTiming(job, count, ms);
    this.credit.recordTiming(count, ms);
    this.free(count);
    this.buffer.add(outcomes, count, attachments);
  };

  private onRequeue(job: LocalJob, tasks: ThreadTask[], suspect: boolean): void {
    if (this.jobs.get(job.jobId) !== job) return;
    if (this.paused) this.credit.returned(this.release([{ jobId: job.jobId, tasks }]));
    else this.queue.unshift(job, tasks, suspect);
  }

  private onPageHide(): void {
    // Hand back everything at once so the server re-dispatches now, not when a lease expires.
    this.handBackEverything();
    this.extras.ledger?.save();
    this.connection.stop('pagehide');
  }

  /** Sends finished outcomes, then releases every queued and running task. */
  private handBackEverything(): void {
    this.buffer.flush();
    this.release(groupsOf([...this.queue.drain(), ...this.pool.runningTasks()]));
    this.pool.abort();
  }

  /** Slots came back: granted to the server again as far as the credit book's target allows. */
  private free(slots: number): void {
    if (slots <= 0) return;
    this.buffer.addCredit(this.credit.returned(slots));
    this.buffer.flushAt = flushThreshold(this.credit.target);
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
    const id = this.currentJobId;
    const face = id === undefined ? undefined : this.jobs.get(id)?.public;
    return {
      connection: this.status,
      paused: this.paused,
      holds: this.holds.list,
      threads: this.threads,
      cpuCap: this.cpuCap,
      currentJob: id === undefined ? undefined : { id, ...(face ? { public: face } : {}) },
      operator: this.operator,
      contribution: this.extras.ledger ? { ...this.extras.ledger.value } : undefined,
      tasksDone: this.tasksDone,
      tasksFailed: this.tasksFailed,
      tasksPerSecond,
      currentJobId: this.currentJobId,
      sandboxFaults: this.pool.faults,
    };
  }

  private emit(): void {
    // Idle (nothing queued or running): no current job to show.
    if (this.queue.size === 0 && this.pool.runningTasks().length === 0) {
      this.currentJobId = undefined;
    }
    const rate = this.meter.sample(performance.now(), this.tasksDone);
    this.snapshot = this.buildSnapshot(rate);
    for (const listener of this.listeners) listener();
  }
}

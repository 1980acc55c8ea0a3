/**
 * What one connection's executor keeps for the task model (plan-13 §7): its report outbox, the
 * simulated threads (slots) task-model programs run on, each job's lifecycle, and the busy time
 * its monitor samples report. A plain `Run`-only program touches none of it but `busy`.
 */
import { TASK_LIMITS, type TaskReport } from '@tabgrid/protocol/task-reports';
import type { ServerToWorker } from '@tabgrid/protocol/worker';
import type { Behavior } from './behavior.js';
import type { BusySince } from './executor-types.js';
import { JobLifecycle } from './job-lifecycle.js';
import type { CompiledProgram } from './program-cache.js';
import { startSampler } from './monitor-sampler.js';
import { ReportOutbox } from './report-outbox.js';

type JobMessage = Extract<ServerToWorker, { type: 'job' }>;

export type { BusySince };

export class ConnectionTaskModel {
  /** Reports (progress, logs, events, Setup times): sent before every outcomes frame. */
  readonly reports: ReportOutbox;
  /** Simulated threads free for task-model programs (plain ones need none). */
  private readonly freeSlots: number[];
  private busy: BusySince = { busyMs: 0, tasks: 0, jobs: new Map() };
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    private readonly threads: number,
    private readonly behavior: () => Readonly<Behavior>,
    send: (frame: string) => void,
    held: () => boolean,
  ) {
    this.reports = new ReportOutbox(send, held, () => behavior().reportLies?.progressSpam !== true);
    this.reports.transform = (item) => this.forged(item);
    this.freeSlots = Array.from({ length: threads }, (_, i) => threads - 1 - i);
  }

  /** A hostile sim's reports name tasks it was never given (`reportLies.forgeReportIndex`). */
  private forged(item: TaskReport): TaskReport {
    if (!this.behavior().reportLies?.forgeReportIndex || item.index === null) return item;
    return { ...item, index: item.index + 1_000_000 };
  }

  /** The job's lifecycle, for a program that uses the task model; else undefined. */
  lifecycle(message: JobMessage, program: CompiledProgram): JobLifecycle | undefined {
    if (!program.usesTaskApi) return undefined;
    return new JobLifecycle(
      message.jobId,
      program,
      message.setupTimeoutMs ?? message.timeoutMs,
      (item) => this.reports.push(item),
      () => this.behavior().reportLies ?? {},
    );
  }

  /** The series cap the server announced in a `limit` frame. */
  static seriesLimit(maxBytes: number | undefined): number {
    return maxBytes ?? TASK_LIMITS.defaultMaxSeriesBytesPerJob;
  }

  /** A free simulated thread (there always is one: each running task holds at most one). */
  takeSlot(): number {
    return this.freeSlots.pop() ?? 0;
  }

  /** A task of `jobId` that ran `ms` is through; its thread (if it held one) is free again. */
  through(slot: number | undefined, jobId: string, ms: number): void {
    if (slot !== undefined) this.freeSlots.push(slot);
    const busy = this.busy;
    busy.busyMs += ms;
    busy.tasks++;
    busy.jobs.set(jobId, (busy.jobs.get(jobId) ?? 0) + ms);
  }

  /** Sends a monitor `sample` every `sampleMs` (0: never) while not `held`. */
  startSampling(sampleMs: number, send: (frame: string) => void, held: () => boolean): void {
    this.sampler = startSampler(
      sampleMs,
      this.threads,
      () => (held() ? undefined : { busy: this.takeBusy(), lies: this.behavior().reportLies }),
      send,
    );
  }

  /** The connection is gone: nothing more is sent. */
  close(): void {
    clearInterval(this.sampler);
    this.reports.clear();
  }

  /** What ran since the last call, or undefined when no task did (then nothing is sampled). */
  takeBusy(): BusySince | undefined {
    const busy = this.busy;
    if (busy.tasks === 0) return undefined;
    this.busy = { busyMs: 0, tasks: 0, jobs: new Map() };
    return busy;
  }
}

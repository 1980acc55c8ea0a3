/**
 * The threads of a local run: hands each idle thread a chunk of the next job's tasks (higher
 * priority first, round-robin among equals, in index order inside a job), keeps a thread on its
 * job while that job has tasks (one realm per job, Setup once per thread per job), and when a
 * thread must leave its job — the job finished, or another job needs the thread — runs its
 * Teardown. Time limits as in a tab: a task past `timeoutMs` (a Setup past `setupTimeoutMs`)
 * gets its thread terminated and a fresh one started; the job settles the try (local-job.ts).
 */
import type { WorkerFailure } from '@tabgrid/protocol/worker';
import { TASK_LIMITS } from '@tabgrid/protocol/task-reports';
import type { LocalJob } from './local-job.js';
import { LocalThread, type ThreadInput } from './local-thread.js';
import type { NodeThreads } from './node-threads.js';
import { runTimeoutMessage, setupTimeoutMessage, undecodable } from './run-once.js';
import { decodeOutcomes, decodeReports } from './thread-output.js';

/** Most tasks handed to a thread at once (each is reported as it finishes). */
const MAX_CHUNK = 16;

export interface RunnerEvents {
  /** Something of `job` changed (outcomes, reports, state): its streams look again. */
  changed(job: LocalJob): void;
}

interface Slot {
  thread: LocalThread<LocalJob> | undefined;
  workerId: string;
  /** Setup failed on this thread: it is replaced once its chunk is over (tasks run elsewhere). */
  retire: boolean;
}

export class LocalRunner {
  private readonly slots: Slot[];
  private readonly jobs: LocalJob[] = [];
  /** Threads still running a Teardown, per job. */
  private readonly leaving = new Map<LocalJob, number>();
  private turn = 0;
  private closed = false;

  constructor(
    size: number,
    private readonly threads: NodeThreads,
    private readonly events: RunnerEvents,
  ) {
    this.slots = Array.from({ length: size }, (_, i) => ({
      thread: undefined,
      workerId: `local-thread-${i + 1}`,
      retire: false,
    }));
  }

  add(job: LocalJob): void {
    this.jobs.push(job);
  }

  /** Gives every idle thread work while there is some. */
  pump(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.thread?.busy) continue;
      const job = this.pick(slot.thread?.job);
      if (!job) continue;
      if (slot.thread && (slot.thread.job !== job || slot.retire || !slot.thread.alive)) {
        this.leave(slot.thread);
        slot.thread = undefined;
      }
      slot.retire = false;
      if (!slot.thread) slot.thread = this.start(slot, job);
      const share = Math.ceil(job.queue.length / this.slots.length);
      const indexes = job.queue.splice(0, Math.max(1, Math.min(MAX_CHUNK, share)));
      job.running += indexes.length;
      slot.thread.run(indexes.map((index) => ({ index, inputJson: job.inputs[index]! })));
    }
  }

  /** A `job.tell()` message for the job's threads (those loading it later get the backlog). */
  tell(job: LocalJob, seq: number, json: string): void {
    for (const slot of this.slots) if (slot.thread?.job === job) slot.thread.tell(seq, json);
  }

  /** `job` finished (done, cancelled or deleted): its threads leave it, running Teardown. */
  finish(job: LocalJob): void {
    for (const slot of this.slots) {
      if (slot.thread?.job !== job) continue;
      this.leave(slot.thread);
      slot.thread = undefined;
    }
    const i = this.jobs.indexOf(job);
    if (i >= 0) this.jobs.splice(i, 1);
    if (!this.leaving.has(job)) this.left(job);
    this.pump();
  }

  close(): void {
    this.closed = true;
    for (const slot of this.slots) slot.thread?.kill();
    for (const job of this.jobs) for (const timer of job.retryTimers) clearTimeout(timer);
    this.threads.dispose();
  }

  /** The job this slot runs next: its own job while it has tasks, else the first in line. */
  private pick(current: LocalJob | undefined): LocalJob | undefined {
    if (current && current.queue.length > 0 && !current.finished) return current;
    const ready = this.jobs.filter((j) => j.queue.length > 0 && !j.finished);
    if (ready.length === 0) return undefined;
    const top = Math.max(...ready.map((j) => j.priority));
    const equals = ready.filter((j) => j.priority === top);
    return equals[this.turn++ % equals.length];
  }

  private start(slot: Slot, job: LocalJob): LocalThread<LocalJob> {
    const thread: LocalThread<LocalJob> = new LocalThread<LocalJob>(this.threads.spawn(), {
      report: (tel) => {
        try {
          job.report(decodeReports(job.jobId, tel), slot.workerId, Date.now());
        } catch (error) {
          const at = Date.now();
          const message = `A report of this thread was dropped: ${error instanceof Error ? error.message : String(error)}`;
          job.report(
            [{ jobId: job.jobId, index: null, logs: [{ level: 'warn', message, count: 1, at }] }],
            slot.workerId,
            at,
          );
        }
        this.events.changed(job);
      },
      setup: (ok) => {
        if (!ok) slot.retire = true;
      },
      outcomes: (text, tasks) => {
        job.running -= tasks.length;
        let outcomes;
        try {
          outcomes = decodeOutcomes(job.jobId, text, tasks.length);
        } catch (error) {
          // The protocol refuses the text: the tasks fail with why, as a program error would.
          const failure = { name: 'ResultError', message: undecodable(error), stack: '' };
          outcomes = tasks.map(({ index }) => ({
            jobId: job.jobId,
            index,
            ms: 0,
            ok: false as const,
            error: failure,
          }));
        }
        for (const outcome of outcomes) {
          job.accept(outcome, Date.now(), (index, delayMs) => this.retryLater(job, index, delayMs));
        }
        this.settled(job);
      },
      idle: () => this.pump(),
      timedOut: (phase, unreported) => {
        if (slot.thread === thread) slot.thread = undefined;
        this.lost(job, phase, unreported);
      },
      broken: (reason, unreported) => {
        if (slot.thread === thread) slot.thread = undefined;
        const error = { name: 'Error', message: `the local thread broke: ${reason}`, stack: '' };
        job.running -= unreported.length;
        for (const { index } of unreported) job.failAttempt(index, error, 'lost', Date.now());
        this.settled(job);
      },
    });
    thread.load(job, job.messages);
    return thread;
  }

  /** A thread died on its watchdog holding `unreported` (the first of which was running). */
  private lost(job: LocalJob, phase: 'start' | 'setup' | 'run', unreported: ThreadInput[]): void {
    const now = Date.now();
    job.running -= unreported.length;
    const fail = (index: number, error: WorkerFailure, type: 'timeout' | 'setup'): void =>
      job.failAttempt(index, error, type, now);
    if (phase === 'setup') {
      const message = setupTimeoutMessage(job);
      const error = { name: 'TimeoutError', message, stack: '', timedOut: true };
      for (const { index } of unreported) fail(index, error, 'setup');
    } else if (phase === 'run' && unreported.length > 0) {
      const [first, ...rest] = unreported;
      fail(
        first!.index,
        { name: 'TimeoutError', message: runTimeoutMessage(job), stack: '' },
        'timeout',
      );
      job.queue.unshift(...rest.map((t) => t.index));
    } else job.queue.unshift(...unreported.map((t) => t.index));
    this.settled(job);
  }

  private retryLater(job: LocalJob, index: number, delayMs: number): void {
    job.running++;
    const timer = setTimeout(() => {
      job.retryTimers.delete(timer);
      job.running--;
      if (job.finished || job.isSettled(index)) return;
      job.queue.push(index);
      this.pump();
    }, delayMs);
    job.retryTimers.add(timer);
  }

  private settled(job: LocalJob): void {
    this.events.changed(job);
    if (job.finished) this.finish(job);
    else this.pump();
  }

  private leave(thread: LocalThread<LocalJob>): void {
    const job = thread.job;
    if (!job) {
      thread.kill();
      return;
    }
    this.leaving.set(job, (this.leaving.get(job) ?? 0) + 1);
    void thread.leave(TASK_LIMITS.teardownDeadlineMs).then((how) => {
      if (how === 'late') {
        const at = Date.now();
        const message = `Teardown did not finish within ${TASK_LIMITS.teardownDeadlineMs / 1000} s; the thread was ended`;
        job.report(
          [{ jobId: job.jobId, index: null, logs: [{ level: 'warn', message, count: 1, at }] }],
          'local',
          at,
        );
      }
      const left = (this.leaving.get(job) ?? 1) - 1;
      if (left > 0) this.leaving.set(job, left);
      else {
        this.leaving.delete(job);
        if (job.finished) this.left(job);
      }
    });
  }

  private left(job: LocalJob): void {
    job.threadsLeft = true;
    this.events.changed(job);
  }
}

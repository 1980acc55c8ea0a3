/**
 * One job's life on one connection's simulated threads (plan-13 §7): `Setup(args)` once per
 * thread (slot) before its first task, bounded by `setupTimeoutMs`; `Teardown()` when the job
 * leaves (cancelled, deleted, done, connection closing), bounded by TASK_LIMITS.teardownDeadlineMs;
 * the job's `job.tell` messages, handed to every slot's listeners and `next()` cursors.
 *
 * Only programs that use the task model (`CompiledProgram.usesTaskApi`) get here.
 */
import { TASK_LIMITS, type TaskReport } from '@tabgrid/protocol/task-reports';
import type { WorkerFailure } from '@tabgrid/protocol/worker';
import { describe, isThenable } from './outcome-items.js';
import type { CompiledProgram } from './program-cache.js';
import { SlotChannel, TaskTel, runIn, type JobChannel, type TelLies } from './task-api.js';

/** One simulated thread's state for one job. */
interface SlotState {
  readonly channel: SlotChannel;
  /** `done` when Setup succeeded (or there is none); a failure answers every later task. */
  setup: 'none' | 'running' | 'done' | WorkerFailure;
}

export class JobLifecycle {
  readonly channel: JobChannel;
  private readonly slots = new Map<number, SlotState>();
  private lastSeq = 0;

  constructor(
    readonly jobId: string,
    private readonly program: CompiledProgram,
    private readonly setupTimeoutMs: number,
    post: (item: TaskReport) => void,
    lies: () => TelLies,
  ) {
    this.channel = { jobId, messages: [], seriesLimit: undefined, post, lies };
  }

  private slot(slot: number): SlotState {
    let state = this.slots.get(slot);
    if (!state) {
      state = {
        channel: new SlotChannel(this.channel),
        setup: this.program.setup ? 'none' : 'done',
      };
      this.slots.set(slot, state);
    }
    return state;
  }

  /** A task's context on `slot` (its calls report there). */
  taskTel(slot: number, index: number): TaskTel {
    return new TaskTel(this.slot(slot).channel, index);
  }

  /**
   * Makes `slot` ready for a task: undefined when it is (Setup ran and succeeded), else the
   * failure to answer the task with (`phase: 'setup'`), or a promise of either while Setup runs.
   */
  ready(slot: number): WorkerFailure | undefined | Promise<WorkerFailure | undefined> {
    const state = this.slot(slot);
    if (state.setup === 'done') return undefined;
    if (typeof state.setup === 'object') return state.setup;
    return this.runSetup(slot, state);
  }

  private runSetup(slot: number, state: SlotState): Promise<WorkerFailure | undefined> {
    const setup = this.program.setup!;
    state.setup = 'running';
    const tel = new TaskTel(state.channel, null);
    const started = performance.now();
    const finish = (failure: WorkerFailure | undefined): WorkerFailure | undefined => {
      const ms = Math.min(2 * 86_400_000, performance.now() - started);
      tel.finish({ setup: { ms: Math.round(ms * 1000) / 1000, ok: failure === undefined } });
      return failure;
    };
    let result: unknown;
    try {
      result = runIn(tel, () => setup(this.program.args));
    } catch (error) {
      state.setup = { ...describe(error), phase: 'setup' };
      return Promise.resolve(finish(state.setup));
    }
    if (!isThenable(result)) {
      state.setup = 'done';
      return Promise.resolve(finish(undefined));
    }
    return new Promise((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        // The page kills the thread and starts a fresh one: Setup runs again on its next task.
        this.slots.delete(slot);
        resolve(finish(setupTimeout(this.setupTimeoutMs)));
      }, this.setupTimeoutMs);
      Promise.resolve(result).then(
        () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          state.setup = 'done';
          resolve(finish(undefined));
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          state.setup = { ...describe(error), phase: 'setup' };
          resolve(finish(state.setup));
        },
      );
    });
  }

  /** `job.tell` messages from the server, in seq order; a replayed seq is skipped. */
  deliver(items: readonly { seq: number; data: unknown }[]): void {
    for (const { seq, data } of items) {
      if (seq <= this.lastSeq) continue;
      this.lastSeq = seq;
      this.channel.messages.push({ seq, data });
      for (const state of this.slots.values()) state.channel.deliver(seq, data);
    }
  }

  /**
   * Runs Teardown on every slot that ran the job (awaited up to the deadline; a throw or a
   * timeout becomes a log line with index null). Resolves when all are through.
   */
  async teardown(): Promise<void> {
    const teardown = this.program.teardown;
    const states = [...this.slots.values()];
    this.slots.clear();
    if (!teardown) return;
    await Promise.all(
      states.map(async (state) => {
        const tel = new TaskTel(state.channel, null);
        try {
          const result = runIn(tel, () => teardown());
          if (isThenable(result)) {
            let timer: NodeJS.Timeout | undefined;
            const deadline = new Promise<'late'>((resolve) => {
              timer = setTimeout(() => resolve('late'), TASK_LIMITS.teardownDeadlineMs);
            });
            const outcome = await Promise.race([Promise.resolve(result), deadline]);
            clearTimeout(timer);
            if (outcome === 'late') {
              tel.log('warn', [
                `Teardown did not finish within ${TASK_LIMITS.teardownDeadlineMs / 1000} s`,
              ]);
            }
          }
        } catch (error) {
          const { name, message } = describe(error);
          tel.log('error', [`Teardown threw ${name}: ${message}`]);
        }
        tel.finish();
      }),
    );
  }
}

/** What a tab reports for the tasks of a thread whose Setup ran out of time. */
export function setupTimeout(setupTimeoutMs: number): WorkerFailure {
  return {
    name: 'TimeoutError',
    message: `Setup did not finish within setupTimeoutMs (${setupTimeoutMs} ms)`,
    stack: '',
    timedOut: true,
    phase: 'setup',
  };
}

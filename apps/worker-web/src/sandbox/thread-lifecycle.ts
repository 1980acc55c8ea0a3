/**
 * A job thread's life around its tasks (issue #13): Setup's time limit and Teardown's deadline.
 * The pool (thread-pool.ts) hands a thread here when it leaves its job, and asks here what to
 * report when a Setup never finished.
 */
import { TASK_LIMITS } from '@tabgrid/protocol/task-reports';
import type { Chunk, LocalJob } from './chunk';
import type { PoolThread } from './pool-thread';
import { isThreadToPage } from '@tabgrid/job-runtime/sandbox-protocol';

/** How long a leaving thread's Teardown may take before the thread is ended anyway. */
export const TEARDOWN_DEADLINE_MS = TASK_LIMITS.teardownDeadlineMs;

export interface RetireEvents {
  /** A retiring thread's report text: its job's own items only (Teardown's lines, index null). */
  onReport(job: LocalJob, tel: string, jobOnly: true): void;
  /** Ends the thread for good (closes its port, terminates its worker). */
  kill(thread: PoolThread): void;
}

/** The `warn` line a Teardown that missed its deadline leaves, as report text. */
export function teardownLateTel(): string {
  const line = {
    level: 'warn',
    message: `Teardown did not finish within ${TEARDOWN_DEADLINE_MS / 1000} s; the thread was ended`,
    count: 1,
    at: Date.now(),
  };
  return JSON.stringify({ index: null, logs: [line] });
}

/** The error of every task of a thread whose Setup outran `setupTimeoutMs`, as JSON text. */
export function setupTimeoutError(job: LocalJob): string {
  return JSON.stringify({
    name: 'TimeoutError',
    message: `Setup did not finish within setupTimeoutMs (${job.setupTimeoutMs} ms)`,
    stack: '',
    timedOut: true,
    phase: 'setup',
  });
}

/** Failed outcomes of `tasks` with `errorJson` (a Setup failure), joined by commas. */
export function setupFailedOutcomes(job: LocalJob, chunk: Chunk, errorJson: string): string {
  let outcomes = '';
  const prefix = `{"jobId":${JSON.stringify(job.jobId)},"index":`;
  for (const task of chunk.tasks) {
    const text = `${prefix}${task.index},"ms":0,"ok":false,"error":${errorJson}}`;
    outcomes = outcomes === '' ? text : `${outcomes},${text}`;
  }
  return outcomes;
}

/**
 * A chunk of a job whose Setup outran setupTimeoutMs on this page, for a thread that would
 * load the job afresh: its tasks fail at once (true) rather than wait out the same Setup on
 * each fresh thread in turn; the server runs them elsewhere.
 */
export function failIfSetupFailed(
  chunk: Chunk,
  loaded: LocalJob | undefined,
  events: {
    onOutcomes(job: LocalJob, outcomes: string, count: number, failures: number, ms: number): void;
  },
): boolean {
  const { job } = chunk;
  if (job.setupFailure === undefined || loaded === job) return false;
  const outcomes = setupFailedOutcomes(job, chunk, job.setupFailure);
  events.onOutcomes(job, outcomes, chunk.tasks.length, chunk.tasks.length, 0);
  return true;
}

/**
 * Threads that left their job and run its Teardown: each is ended at `tornDown` or after
 * {@link TEARDOWN_DEADLINE_MS}, whichever comes first. A thread that never loaded its program,
 * or whose program has no Teardown, is ended at once (the plain path: as before issue #13).
 */
export class Retirement {
  private readonly timers = new Map<PoolThread, ReturnType<typeof setTimeout>>();

  constructor(private readonly events: RetireEvents) {}

  /** Threads still running their Teardown. */
  get size(): number {
    return this.timers.size;
  }

  retire(thread: PoolThread): void {
    const job = thread.job;
    const chunk = thread.chunk;
    thread.chunk = undefined;
    thread.watchdog.stop();
    if (!job || !thread.loaded || !thread.hasTeardown) {
      this.events.kill(thread);
      return;
    }
    // What the thread reports from now on is Teardown's: results of a stopped chunk are void
    // (its tasks were handed back or cancelled by the caller).
    thread.port.onmessage = (event: MessageEvent) => {
      const data: unknown = event.data;
      if (!isThreadToPage(data)) return;
      if ((data.type === 'tel' || data.type === 'tornDown') && data.tel !== '') {
        this.events.onReport(job, data.tel, true);
      }
      if (data.type === 'tornDown') this.end(thread);
    };
    if (chunk) thread.port.postMessage({ type: 'stop', chunkId: chunk.chunkId });
    thread.port.postMessage({ type: 'teardown' });
    this.timers.set(
      thread,
      setTimeout(() => {
        this.events.onReport(job, teardownLateTel(), true);
        this.end(thread);
      }, TEARDOWN_DEADLINE_MS),
    );
  }

  /** The page goes away: Teardown is asked for, but nobody waits for it. */
  retireNow(thread: PoolThread): void {
    if (thread.loaded && thread.hasTeardown) thread.port.postMessage({ type: 'teardown' });
    this.events.kill(thread);
  }

  dispose(): void {
    for (const thread of [...this.timers.keys()]) this.end(thread);
  }

  private end(thread: PoolThread): void {
    const timer = this.timers.get(thread);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(thread);
    this.events.kill(thread);
  }
}

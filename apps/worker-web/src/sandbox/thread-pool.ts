import type { PageToThread, ThreadTask } from '@tabgrid/job-runtime/sandbox-protocol';
import { isThreadToPage } from '@tabgrid/job-runtime/sandbox-protocol';
import { THREAD_FLUSH_INTERVAL_MS } from '@tabgrid/job-runtime/thread-source';
import type { Chunk, LocalJob } from './chunk';
import { checkResults, type OnOutcomes } from './results-check';
import { violationOutcomes } from './page-made-outcomes';
import { takeBusyMs, type PoolThread } from './pool-thread';
import type { ThreadHost } from './thread-host';
import { Retirement, failIfSetupFailed } from './thread-lifecycle';
import { SUSPECT_TIMEOUT_MS, timeoutVerdict } from './thread-timeout';
import { ThreadWatchdog } from './thread-watchdog';
import { pickVictim } from './work-stealing';

export interface ThreadPoolEvents {
  /** The next chunk for an idle thread that holds `loadedJobKey` (undefined: a fresh thread). */
  takeChunk(loadedJobKey: number | undefined): Chunk | undefined;
  /** Tasks queued locally, not yet handed to a thread. */
  queued(): number;
  /** `count` finished outcomes of tasks of `job` (see OnOutcomes). */
  onOutcomes: OnOutcomes;
  /** Unrun tasks going back to the front of the local queue; `suspect` ones must run exactly. */
  onRequeue(job: LocalJob, tasks: ThreadTask[], suspect: boolean): void;
  /**
   * A thread running `job` sent something its runtime never sends (a forged or malformed
   * outcome, results for a chunk it was not given): its job code has subverted the runtime.
   * The message was dropped; the thread's unreported tasks were failed with `reason`.
   */
  onFault?(job: LocalJob, reason: string): void;
  /** Report text of a thread of `job` (TaskReports without jobId, joined by commas; see ReportBuffer.add). */
  onReport(job: LocalJob, tel: string, jobOnly?: boolean): void;
  /** A task of a job with progressTimeoutMs began running on a thread. */
  onStarted?(job: LocalJob, index: number): void;
  /** The CPU cap (duty-cycle.ts): true while `thread` rests; it gets no chunk meanwhile. */
  resting?(thread: PoolThread): boolean;
  /** `thread` finished a chunk: under a CPU cap its rest starts now. */
  chunkDone?(thread: PoolThread): void;
}

/** Allowances for a thread still starting (spawn, port hand-over), a flush queued on the page. */
const STARTUP_GRACE_MS = 5_000;
const DELIVERY_GRACE_MS = 50;
export { SUSPECT_TIMEOUT_MS } from './thread-timeout';
export { STEAL_AFTER_MS, STEAL_AHEAD_MS } from './work-stealing';

/**
 * The job threads: hands chunks to idle threads, enforces time limits with a per-thread
 * watchdog (terminate, report the timed-out task, re-queue the rest, respawn), and gives each
 * job a fresh realm so one job's code can never tamper with another's.
 */
export class ThreadPool {
  private readonly threads: PoolThread[] = [];
  private nextChunkId = 1;
  /** Messages dropped because a thread's job code had subverted its runtime. */
  private faultCount = 0;
  private stealTimer: ReturnType<typeof setTimeout> | undefined;
  /** Threads that left their job, running its Teardown until they end. */
  private readonly retirement = new Retirement({
    onReport: (job, tel, jobOnly) => this.events.onReport(job, tel, jobOnly),
    kill: (thread) => this.kill(thread),
  });

  constructor(
    size: number,
    private readonly events: ThreadPoolEvents,
    /** The page's WebWorkerThreadHost; tests inject their own. */
    private readonly host: ThreadHost,
  ) {
    this.resize(size);
  }

  get size(): number {
    return this.threads.length;
  }

  /** Thread messages dropped as forged or malformed since the pool started. */
  get faults(): number {
    return this.faultCount;
  }

  resize(size: number): void {
    while (this.threads.length < size) this.threads.push(this.spawn());
    while (this.threads.length > size) {
      const thread = this.threads.pop() as PoolThread;
      this.requeueRest(thread);
      this.retirement.retire(thread);
    }
    this.pump();
  }

  /** Gives every idle thread work, as long as there is some; then steals for the rest. */
  pump(): void {
    for (const thread of this.threads) {
      if (thread.chunk || this.events.resting?.(thread)) continue;
      let chunk = this.events.takeChunk(thread.job?.key);
      // A job whose Setup outran its limit here fails its tasks at once (thread-lifecycle.ts).
      while (chunk && failIfSetupFailed(chunk, thread.job, this.events))
        chunk = this.events.takeChunk(thread.job?.key);
      if (!chunk) {
        this.steal(false);
        return;
      }
      this.dispatch(thread, chunk);
    }
    if (this.threads.length > 1 && this.events.queued() === 0) this.steal(true);
  }

  /** Tasks handed to threads and not reported yet, per job. */
  runningTasks(): Chunk[] {
    const running: Chunk[] = [];
    for (const { chunk, reported } of this.threads) {
      if (chunk) running.push({ job: chunk.job, tasks: chunk.tasks.slice(reported), exact: false });
    }
    return running;
  }

  /**
   * Every thread of `jobKey` (of any job when undefined; `idle`: only those not running a
   * chunk, as a pause does) leaves it: running ones stop, all run the job's Teardown
   * (thread-lifecycle.ts) while fresh threads take their places. Returns their unrun tasks.
   */
  abort(jobKey?: number, idle = false): Chunk[] {
    const aborted: Chunk[] = [];
    for (const [i, thread] of this.threads.entries()) {
      const job = thread.chunk?.job ?? thread.job;
      if (!job || (jobKey !== undefined && job.key !== jobKey) || (idle && thread.chunk)) continue;
      const chunk = thread.chunk;
      if (chunk) {
        aborted.push({ job: chunk.job, tasks: chunk.tasks.slice(thread.reported), exact: false });
      }
      this.retirement.retire(thread);
      this.threads[i] = this.spawn();
    }
    return aborted;
  }

  /** A `job.tell()` message for the threads of `job` (those loading it later get the backlog). */
  tell(job: LocalJob, seq: number, json: string): void {
    for (const thread of this.threads) {
      if (thread.job === job) this.send(thread, { type: 'message', seq, json });
    }
  }

  /** The server's `limit` frame for `job` (job.seriesFull: the message collect throws). */
  limit(job: LocalJob): void {
    const message = job.seriesFull;
    for (const thread of this.threads) {
      if (thread.job === job) this.send(thread, { type: 'limit', what: 'series', message });
    }
  }

  /** Compute time each thread reported since the last call (the monitor's busy time). */
  takeBusyMs(): number[] {
    return this.threads.map(takeBusyMs);
  }

  dispose(): void {
    if (this.stealTimer !== undefined) clearTimeout(this.stealTimer);
    this.retirement.dispose();
    for (const thread of this.threads.splice(0)) this.retirement.retireNow(thread);
    this.host.dispose();
  }

  private spawn(): PoolThread {
    const { workerId, port } = this.host.spawn();
    const thread: PoolThread = {
      workerId,
      port,
      ready: false,
      loaded: false,
      hasTeardown: false,
      setupPending: false,
      busyMs: 0,
      job: undefined,
      chunk: undefined,
      dispatchedAt: 0,
      stopping: false,
      chunkMs: 0,
      reported: 0,
      restUntil: 0,
      overslept: 0,
      watchdog: new ThreadWatchdog(
        () => thread.chunk !== undefined,
        () => this.onTimeout(thread),
      ),
    };
    port.onmessage = (event: MessageEvent) => this.onThreadMessage(thread, event.data);
    return thread;
  }

  private kill(thread: PoolThread): void {
    // Closing our port first means no message of the dying realm is delivered after this.
    thread.port.onmessage = null;
    thread.port.close();
    this.host.terminate(thread.workerId);
    thread.watchdog.stop();
    thread.chunk = undefined;
  }

  /** A fresh thread in `thread`'s place; `retire`: the old one runs its Teardown first. */
  private replace(thread: PoolThread, retire = false): PoolThread {
    if (retire) this.retirement.retire(thread);
    else this.kill(thread);
    const fresh = this.spawn();
    const i = this.threads.indexOf(thread);
    if (i >= 0) this.threads[i] = fresh;
    return fresh;
  }

  private send(thread: PoolThread, message: PageToThread): void {
    thread.port.postMessage(message);
  }

  private dispatch(current: PoolThread, chunk: Chunk): void {
    const { job } = chunk;
    let thread = current;
    if (thread.job !== job) {
      // One realm per job: a thread that has evaluated another job's code is replaced.
      if (thread.job !== undefined) thread = this.replace(thread, true);
      thread.job = job;
      const { jobId, program, args, webgpu } = job;
      this.send(thread, { type: 'load', jobId, program, args, webgpu });
      for (const { seq, json } of job.messages) this.send(thread, { type: 'message', seq, json });
      if (job.seriesFull)
        this.send(thread, { type: 'limit', what: 'series', message: job.seriesFull });
    }
    const chunkId = this.nextChunkId++;
    thread.chunk = { ...chunk, chunkId };
    thread.reported = 0;
    thread.dispatchedAt = performance.now();
    thread.stopping = false;
    thread.chunkMs = 0;
    // Tasks with typed arrays go as they are (cloned, no base64); results come back attached.
    const tasks = job.liveInputs ? chunk.tasks : JSON.stringify(chunk.tasks);
    this.send(thread, { type: 'run', chunkId, tasks, flushEach: chunk.exact, attach: true });
    this.progress(thread);
    if (job.progressTimeoutMs !== undefined) this.events.onStarted?.(job, chunk.tasks[0]!.index);
  }

  /**
   * Nothing is queued. When a thread is idle, asks the thread with the most unreported tasks
   * in a chunk older than STEAL_AFTER_MS to stop it, so its rest can be shared out (a chunk
   * that is merely young is looked at again once it is old enough). `ahead`: no thread is idle
   * yet; only a chunk with STEAL_AHEAD_MS of work left, by its own timings, is split.
   */
  private steal(ahead: boolean): void {
    const { victim, wait } = pickVictim(this.threads, ahead, performance.now());
    if (victim?.chunk) {
      victim.stopping = true;
      this.send(victim, { type: 'stop', chunkId: victim.chunk.chunkId });
    } else if (!ahead && wait < Infinity && this.stealTimer === undefined) {
      this.stealTimer = setTimeout(() => {
        this.stealTimer = undefined;
        this.pump();
      }, wait);
    }
  }

  /** Something arrived from the thread: its watchdog starts again (Setup: setupTimeoutMs). */
  private progress(thread: PoolThread): void {
    const chunk = thread.chunk;
    if (!chunk) return;
    const limit = thread.setupPending ? chunk.job.setupTimeoutMs : this.limitOf(chunk);
    const budget = limit + THREAD_FLUSH_INTERVAL_MS + DELIVERY_GRACE_MS;
    thread.watchdog.restart(budget + (thread.ready ? 0 : STARTUP_GRACE_MS));
  }

  private limitOf(chunk: Chunk): number {
    return chunk.exact ? Math.min(chunk.job.timeoutMs, SUSPECT_TIMEOUT_MS) : chunk.job.timeoutMs;
  }

  private onThreadMessage(thread: PoolThread, data: unknown): void {
    if (!isThreadToPage(data)) {
      this.onFault(thread, 'a message that is not part of the thread protocol');
      return;
    }
    switch (data.type) {
      case 'ready':
        thread.ready = true;
        this.progress(thread);
        return;
      case 'loaded':
        thread.loaded = true;
        thread.hasTeardown = data.teardown;
        thread.setupPending = data.setup;
        this.progress(thread);
        return;
      case 'setup':
        thread.setupPending = false;
        if (thread.job && data.tel !== '') this.events.onReport(thread.job, data.tel);
        this.progress(thread);
        return;
      case 'tel':
        if (thread.job && data.tel !== '') this.events.onReport(thread.job, data.tel);
        return;
      case 'tornDown':
        return; // only a retiring thread says this (thread-lifecycle.ts listens to those)
      case 'results': {
        const checked = checkResults(thread, data);
        if (typeof checked === 'string') {
          this.onFault(thread, checked);
          return;
        }
        const chunk = thread.chunk!;
        thread.reported += data.count;
        thread.chunkMs += data.ms;
        thread.busyMs += data.ms;
        this.progress(thread);
        // The task's report goes before its outcome (the OutcomeBuffer flushes reports first).
        if (data.tel !== '') this.events.onReport(chunk.job, data.tel);
        if (data.count > 0) {
          const { outcomes, attachments } = checked;
          this.events.onOutcomes(
            chunk.job,
            outcomes,
            data.count,
            data.failures,
            data.ms,
            attachments,
          );
        }
        if (data.done || thread.reported >= chunk.tasks.length) {
          this.requeueRest(thread);
          thread.chunk = undefined;
          this.events.chunkDone?.(thread);
          this.pump();
        } else {
          if (chunk.job.progressTimeoutMs !== undefined && data.count > 0) {
            this.events.onStarted?.(chunk.job, chunk.tasks[thread.reported]!.index);
          }
          if (this.threads.length > 1 && this.events.queued() === 0) {
            this.steal(true); // the chunk's timing just got better known
          }
        }
        return;
      }
    }
  }

  /**
   * The thread's realm is corrupt: job code reached its runtime (or its port). The message is
   * dropped and counted; the tasks it held fail with a clear error (the job's own code broke
   * them, so running them again would only break the next realm), and the thread is replaced.
   * A thread that has run no job yet is just replaced: no job code ran there.
   */
  private onFault(thread: PoolThread, what: string): void {
    this.faultCount++;
    const chunk = thread.chunk;
    const reason = `the job's code tampered with its sandbox thread (${what}); the thread was replaced`;
    console.warn(`[tabgrid] sandbox thread ${thread.workerId}: ${reason}`);
    const job = thread.job;
    if (chunk && chunk.job === job) {
      const rest = chunk.tasks.slice(thread.reported);
      if (rest.length > 0) {
        thread.reported = chunk.tasks.length;
        this.events.onOutcomes(
          job,
          violationOutcomes(job, rest, reason),
          rest.length,
          rest.length,
          0,
        );
      }
    }
    if (job) this.events.onFault?.(job, reason);
    this.replace(thread);
    this.pump();
  }

  private requeueRest(thread: PoolThread, suspect = false): void {
    const chunk = thread.chunk;
    if (chunk && thread.reported < chunk.tasks.length) {
      this.events.onRequeue(chunk.job, chunk.tasks.slice(thread.reported), suspect);
    }
  }

  private onTimeout(thread: PoolThread): void {
    const chunk = thread.chunk;
    if (!chunk) return;
    if (!thread.ready) {
      // The worker never started: that is the sandbox's fault, not the task's. Retry elsewhere.
      console.warn(`[tabgrid] sandbox thread ${thread.workerId} did not start; replacing it`);
      this.requeueRest(thread);
    } else {
      const verdict = timeoutVerdict(thread, chunk, performance.now());
      if (verdict.count > 0) {
        const { outcomes, count, ms } = verdict;
        this.events.onOutcomes(chunk.job, outcomes, count, count, ms);
      }
      this.requeueRest(thread, verdict.suspect);
    }
    this.replace(thread);
    this.pump();
  }
}

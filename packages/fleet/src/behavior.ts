import { checkProbability, checkRange, type Range, type Rng } from './random.js';

/**
 * How a liar lies. Which tasks it lies about, and the wrong value it returns, are a pure
 * function of (job, index, `collude`): the same liar tells the same lie about a task every
 * time, and liars sharing a `collude` key tell the same lie (so a quorum of them can agree).
 *
 * @example
 * // Two workers that agree on their lies, about half of the tasks:
 * fleet.workers[0]!.behave({ wrongResults: { rate: 0.5, collude: 'gang' } });
 * fleet.workers[1]!.behave({ wrongResults: { rate: 0.5, collude: 'gang' } });
 */
export interface WrongResults {
  /** Fraction of tasks lied about, 0–1 (default 1: every task). */
  rate?: number;
  /** Liars with the same key lie about the same tasks, identically. Default: a key of the worker's own, so liars disagree with each other. */
  collude?: string;
}

/**
 * When a worker dies mid-task: its socket is terminated abruptly (no close frame, no hand-back)
 * on receiving a batch of tasks, before answering any of them.
 *
 * @example
 * worker.behave({ dieMidTask: { afterTasks: 10 } }); // dies on the batch that brings it to 10 tasks
 * worker.behave({ dieMidTask: { probability: 0.05, reconnectAfterMs: [100, 500] } }); // flaky
 */
export interface DieMidTask {
  /** Die on the batch that brings the tasks received on this connection to at least this many. */
  afterTasks?: number;
  /** Chance of dying on each batch of tasks received, 0–1. */
  probability?: number;
  /**
   * Die on any batch holding one of these task indexes (of any job): a poison task that crashes
   * its tab every time, like a memory bomb.
   */
  onIndexes?: readonly number[];
  /** Come back after this long (ms). Default: stay dead until `start()` is called again. */
  reconnectAfterMs?: Range;
}

/**
 * A hostile page's task-model lies (tests of the server's own bounds). Each is off by default.
 *
 * @example
 * worker.behave({ reportLies: { floodLogs: true } }); // a million console lines reach the server
 */
export interface ReportLies {
  /** Report entries name task indexes the worker was never given (index + 1,000,000). */
  forgeReportIndex?: boolean;
  /** The per-task caps on console lines and events are skipped: everything is sent. */
  floodLogs?: boolean;
  /** The per-task 1 MB series cap is skipped (up to 8 MB per task, one frame). */
  hugeSeries?: boolean;
  /** Every `tabgrid.progress` call is sent as its own report entry, uncoalesced. */
  progressSpam?: boolean;
  /** Samples claim more threads than `hello` announced. */
  sampleLies?: boolean;
}

/**
 * What a simulated worker does with its tasks. Every field is optional; an honest, fast,
 * reliable worker is the default. Apply with `new Fleet({ behavior })` (all workers) or
 * `worker.behave(patch)` (one worker, at any time; later patches merge into earlier ones).
 *
 * @example
 * fleet.workers[3]!.behave({ delayMs: [20, 80], throwRate: 0.01 });
 * fleet.workers[4]!.behave({ hang: true });
 * fleet.workers[5]!.behave({ wrongResults: true });
 */
export interface Behavior {
  /**
   * Simulated compute time added to every task (ms), fixed or a `[min, max]` range drawn per
   * task. Each thread runs one task at a time, so a worker does about `threads / delay` tasks
   * per ms. A delay of at least the job's `timeoutMs` is reported as a timeout, as a tab does.
   */
  delayMs?: Range;
  /** Take tasks and never answer them (the credit they hold is never returned). */
  hang?: boolean;
  /**
   * Take these jobs' tasks and never answer them, while answering every other job's: a page
   * whose Setup never returns and that skips `setupTimeoutMs`. The server takes such leases
   * back once they expire while the connection answers other frames.
   */
  hangJobs?: string[];
  /**
   * Run only these jobs' tasks; hand every other job's back at once with a `release` frame (the
   * server then gives this worker a shrinking share of those jobs). Undefined: every job.
   */
  onlyJobs?: string[];
  /**
   * Go silent like a sleeping laptop or a cut network: no pongs to the server's heartbeat, no
   * frames sent, no task started, no reconnecting. The server's heartbeat drops the connection
   * within about 10 s. `freeze: false` wakes it: what finished meanwhile is sent (if the
   * connection survived), and it reconnects if it was dropped.
   */
  freeze?: boolean;
  /** Die abruptly while holding tasks; `false` turns it off. */
  dieMidTask?: DieMidTask | false;
  /** Return wrong values: `true` lies about every task; see {@link WrongResults}. */
  wrongResults?: boolean | WrongResults;
  /** Chance per task, 0–1, of failing it with a `SimulatedError` instead of running `Run`. */
  throwRate?: number;
  /**
   * After a connection ends unexpectedly (the server closed it, or the network failed):
   * reconnect after this long (ms; doubled after each failed attempt, up to 30 s), or `false` to
   * stay down. Default `[100, 1000]`.
   */
  reconnectAfterMs?: Range | false;
  /** Task-model lies of a hostile page: see {@link ReportLies}. */
  reportLies?: ReportLies;
}

/** The default delay before reconnecting after an unexpected close. */
export const DEFAULT_RECONNECT_AFTER_MS: Range = [100, 1000];

/** Checks a behavior (or patch) given by a user; throws a RangeError naming the bad field. */
export function checkBehavior(behavior: Behavior): void {
  if (behavior.delayMs !== undefined) checkRange(behavior.delayMs, 'delayMs');
  if (behavior.throwRate !== undefined) checkProbability(behavior.throwRate, 'throwRate');
  if (behavior.reconnectAfterMs !== undefined && behavior.reconnectAfterMs !== false) {
    checkRange(behavior.reconnectAfterMs, 'reconnectAfterMs');
  }
  const die = behavior.dieMidTask;
  if (die) {
    if (
      die.afterTasks !== undefined &&
      !(Number.isInteger(die.afterTasks) && die.afterTasks >= 1)
    ) {
      throw new RangeError(`dieMidTask.afterTasks must be an integer ≥ 1, got ${die.afterTasks}.`);
    }
    if (die.probability !== undefined) checkProbability(die.probability, 'dieMidTask.probability');
    if (die.onIndexes?.some((i) => !Number.isInteger(i) || i < 0)) {
      throw new RangeError('dieMidTask.onIndexes must hold task indexes (integers ≥ 0).');
    }
    if (die.reconnectAfterMs !== undefined) {
      checkRange(die.reconnectAfterMs, 'dieMidTask.reconnectAfterMs');
    }
  }
  const lies = behavior.wrongResults;
  if (typeof lies === 'object' && lies.rate !== undefined) {
    checkProbability(lies.rate, 'wrongResults.rate');
  }
}

/**
 * Whether a worker holding `dieMidTask` dies on this batch of tasks, `received` being the tasks
 * received on this connection, this batch included.
 */
export function diesOnBatch(
  die: DieMidTask | false | undefined,
  items: readonly { index: number }[],
  received: number,
  rng: Rng,
): boolean {
  if (!die) return false;
  if (die.onIndexes?.length && items.some((item) => die.onIndexes!.includes(item.index))) {
    return true;
  }
  if (die.afterTasks !== undefined && received >= die.afterTasks) return true;
  return die.probability !== undefined && rng.chance(die.probability);
}

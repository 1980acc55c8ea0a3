/**
 * The tiny message protocol between the page and its job threads (Web Workers started from a
 * `data:` URL, see web-worker-thread-host.ts). Like bullmq's ChildCommand / ParentCommand:
 *
 *   page ──PageToThread─▶ thread      over a private MessageChannel whose other port the page
 *   page ◀─ThreadToPage── thread      handed to the worker when it started
 *
 * Everything arriving from a thread is untrusted (job code runs there), so the page checks
 * each message with {@link isThreadToPage} before using it.
 */

/** One task as the thread sees it: the index travels back inside the outcome. */
export interface ThreadTask {
  index: number;
  input: unknown;
}

/** Page → thread. A thread holds at most one job for its whole life (one realm per job). */
export type PageToThread =
  | { type: 'load'; jobId: string; program: string; args: unknown }
  /** `flushEach`: report after every task (used to pin down which task hung). */
  /**
   * `tasks` is the JSON text of a `ThreadTask[]`: one string is cloned several times cheaper
   * than an array of objects, which structured clone walks object by object.
   */
  | { type: 'run'; chunkId: number; tasks: string; flushEach: boolean }
  /**
   * Work stealing: finish the running task, report and end chunk `chunkId` early; the page
   * re-queues its unreported tasks for an idle thread. Read at the chunk's next flush.
   */
  | { type: 'stop'; chunkId: number };

/** Thread → page. */
export type ThreadToPage =
  /** The worker started and owns its port. */
  | { type: 'ready' }
  /** The job's program was evaluated (successfully or not: a broken program fails each task). */
  | { type: 'loaded' }
  /**
   * Outcomes of the next `count` tasks of chunk `chunkId`, in chunk order: the finished JSON
   * texts of protocol `WorkerOutcome`s joined by commas, built inside the thread so the page
   * only concatenates strings on its hot path (and one string is cloned cheaply).
   * `failures` counts the ok:false ones, `ms` sums their compute time; `done` marks the
   * chunk's last flush.
   */
  | {
      type: 'results';
      chunkId: number;
      outcomes: string;
      count: number;
      failures: number;
      ms: number;
      done: boolean;
    };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Validates a message from a thread. Job code shares the thread's realm, so check everything. */
export function isThreadToPage(value: unknown): value is ThreadToPage {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'ready':
    case 'loaded':
      return true;
    case 'results':
      return (
        typeof value.chunkId === 'number' &&
        typeof value.outcomes === 'string' &&
        Number.isInteger(value.count) &&
        (value.count as number) >= 0 &&
        typeof value.failures === 'number' &&
        typeof value.ms === 'number' &&
        typeof value.done === 'boolean'
      );
    default:
      return false;
  }
}

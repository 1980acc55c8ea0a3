/**
 * The tiny message protocol between the page, the sandbox iframe and the job threads (Web
 * Workers started inside the iframe). Like bullmq's ChildCommand / ParentCommand, but three
 * parties:
 *
 *   page ──PageToFrame──▶ iframe      window.postMessage(msg, '*', [port]); the iframe's origin
 *   page ◀─FrameToPage─── iframe      is opaque, so '*' plus an `event.source` check on receipt
 *   page ──PageToThread─▶ thread      over a MessageChannel whose other port the iframe handed
 *   page ◀─ThreadToPage── thread      to the worker: page and thread talk directly, no relay
 *
 * Everything arriving from the iframe or a thread is untrusted (job code runs there), so the
 * page checks each message with the guards below before using it.
 */

/** Page → iframe. `spawn` transfers one MessagePort, which the iframe passes on to the worker. */
export type PageToFrame =
  { type: 'spawn'; workerId: number } | { type: 'terminate'; workerId: number };

/** Iframe → page. */
export type FrameToPage =
  | { type: 'frame-ready' }
  /** An uncaught error inside a thread, or a thread that could not start. Informational. */
  | { type: 'worker-error'; workerId: number; message: string };

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
   * `tasks` is the JSON text of a `ThreadTask[]`. Page and thread live in different processes
   * (the sandbox iframe is isolated): one string crosses that boundary several times cheaper
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
   * only concatenates strings on its hot path (and one string crosses processes cheaply).
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

/** Validates a message from the iframe (whose realm is shared with nothing, but still). */
export function isFrameToPage(value: unknown): value is FrameToPage {
  if (!isRecord(value)) return false;
  if (value.type === 'frame-ready') return true;
  return (
    value.type === 'worker-error' &&
    typeof value.workerId === 'number' &&
    typeof value.message === 'string'
  );
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

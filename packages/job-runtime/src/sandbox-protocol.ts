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
  /** `webgpu`: the job requires WebGPU, so its code may call `tabgrid.gpu()` (task-gpu.ts). */
  | { type: 'load'; jobId: string; program: string; args: unknown; webgpu?: boolean }
  /** `flushEach`: report after every task (used to pin down which task hung). */
  /**
   * `tasks` is the JSON text of a `ThreadTask[]`: one string is cloned several times cheaper
   * than an array of objects, which structured clone walks object by object. Tasks holding
   * typed arrays go as the array itself instead, their bytes cloned as they are (issue 18: no
   * base64; a copy, since the page keeps its tasks to run them again elsewhere).
   * `attach`: the thread returns the results' typed arrays as `attachments` (ThreadToPage).
   */
  | {
      type: 'run';
      chunkId: number;
      tasks: string | ThreadTask[];
      flushEach: boolean;
      attach?: boolean;
    }
  /**
   * Work stealing: finish the running task, report and end chunk `chunkId` early; the page
   * re-queues its unreported tasks for an idle thread. Read at the chunk's next flush.
   */
  | { type: 'stop'; chunkId: number }
  /** A `job.tell()` message for `tabgrid.listen`/`next` (`json`: its data as JSON text). */
  | { type: 'message'; seq: number; json: string }
  /** The server's `limit` frame: `tabgrid.collect` throws `message` (a RangeError) from now on. */
  | { type: 'limit'; what: 'series'; message: string }
  /** The thread leaves its job: run Teardown, then say `tornDown`. */
  | { type: 'teardown' };

/** Thread → page. */
export type ThreadToPage =
  /** The worker started and owns its port. */
  | { type: 'ready' }
  /**
   * The job's program was evaluated (successfully or not: a broken program fails each task);
   * whether it defines Setup (its first chunk runs it first) and Teardown.
   */
  | { type: 'loaded'; setup: boolean; teardown: boolean }
  /**
   * `tel`: report texts (protocol `TaskReport`s without `jobId`, joined by commas) of what job
   * code logged, emitted or reported as progress; '' when nothing happened (the plain path).
   */
  | { type: 'tel'; tel: string }
  /** Setup finished (`tel` carries its report, with `setup: { ms, ok }`). */
  | { type: 'setup'; ok: boolean; ms: number; tel: string }
  /** Teardown finished (or there was none): the thread may be ended. */
  | { type: 'tornDown'; tel: string }
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
      /** The chunk's tasks' reports, as in `tel` messages; '' when they did nothing of the kind. */
      tel: string;
      /**
       * With `run.attach`: the bytes of the outcomes' typed arrays, transferred, each tagged in
       * `outcomes` as `{ "$tabgrid.bytes": kind, "at": offset, "length": n }`, offsets into
       * these buffers laid end to end (the binary frame's own layout: ATTACHED_FORM).
       */
      attachments?: ArrayBuffer[];
    };

/** Most attachments of one results message: the binary frame's bound (MAX_BYTES_TAGS). */
export const MAX_THREAD_ATTACHMENTS = 65_536;

function isAttachments(value: unknown): boolean {
  if (value === undefined) return true;
  if (!Array.isArray(value) || value.length > MAX_THREAD_ATTACHMENTS) return false;
  for (const item of value as unknown[]) if (!(item instanceof ArrayBuffer)) return false;
  return true;
}

/**
 * Most UTF-16 units of one message's report text. The thread flushes at 1 MB, but one task's
 * capped lines and events can weigh more; the ReportBuffer bounds what it keeps.
 */
export const MAX_TEL_CHARS = 32 * 1024 * 1024;

function isTel(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TEL_CHARS;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Validates a message from a thread. Job code shares the thread's realm, so check everything. */
export function isThreadToPage(value: unknown): value is ThreadToPage {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'ready':
      return true;
    case 'loaded':
      return typeof value.setup === 'boolean' && typeof value.teardown === 'boolean';
    case 'tel':
    case 'tornDown':
      return isTel(value.tel);
    case 'setup':
      return (
        typeof value.ok === 'boolean' &&
        typeof value.ms === 'number' &&
        Number.isFinite(value.ms) &&
        value.ms >= 0 &&
        isTel(value.tel)
      );
    case 'results':
      return (
        typeof value.chunkId === 'number' &&
        typeof value.outcomes === 'string' &&
        Number.isInteger(value.count) &&
        (value.count as number) >= 0 &&
        typeof value.failures === 'number' &&
        typeof value.ms === 'number' &&
        typeof value.done === 'boolean' &&
        isTel(value.tel) &&
        isAttachments(value.attachments)
      );
    default:
      return false;
  }
}

/**
 * The summary `tabgrid run` and `tabgrid watch` print when a job ends: counts, elapsed time,
 * rate, the most frequent errors (grouped by type and message) and how to look closer.
 */
import type { TaskFailure } from '@tabgrid/protocol/jobs';
import { formatDuration, plural } from './output.js';

/** Distinct groups kept; past it, further new kinds of error are counted together. */
export const MAX_ERROR_GROUPS = 1_000;
/** Characters of a message that make its group (and that the summary shows). */
const MESSAGE_CHARS = 200;

export interface ErrorGroup {
  type: TaskFailure['type'];
  name: string;
  message: string;
  count: number;
  /** The smallest task index with this error: the one to replay. */
  firstIndex: number;
}

/**
 * Failures counted by (type, message), in bounded memory.
 *
 * @example
 * const groups = new ErrorGroups();
 * groups.add(7, { type: 'program', name: 'Error', message: 'bad', stack: '' });
 * groups.top(5); // [{ type: 'program', message: 'bad', count: 1, firstIndex: 7, … }]
 */
export class ErrorGroups {
  private readonly groups = new Map<string, ErrorGroup>();
  /** Failures whose kind came after {@link MAX_ERROR_GROUPS} others. */
  private overflow = 0;
  /**
   * Tasks that settled as `cancelled` because their job was: counted apart, not grouped (each
   * message names its task, and they say one thing: the job was cancelled).
   */
  cancelled = 0;

  add(index: number, error: Pick<TaskFailure, 'type' | 'name' | 'message'>): void {
    if (error.type === 'cancelled') {
      this.cancelled += 1;
      return;
    }
    const message = error.message.slice(0, MESSAGE_CHARS);
    const key = `${error.type}\u0000${message}`;
    const group = this.groups.get(key);
    if (group) {
      group.count += 1;
      group.firstIndex = Math.min(group.firstIndex, index);
    } else if (this.groups.size < MAX_ERROR_GROUPS) {
      this.groups.set(key, {
        type: error.type,
        name: error.name,
        message,
        count: 1,
        firstIndex: index,
      });
    } else {
      this.overflow += 1;
    }
  }

  /** The `n` largest groups, largest first (ties: the earliest task first). */
  top(n: number): ErrorGroup[] {
    return [...this.groups.values()]
      .sort((a, b) => b.count - a.count || a.firstIndex - b.firstIndex)
      .slice(0, n);
  }

  /** How many groups there are (past the cap, the overflow counts as one). */
  get size(): number {
    return this.groups.size + (this.overflow > 0 ? 1 : 0);
  }
}

export interface SummaryInput {
  jobId: string;
  name?: string;
  /** Tasks of the job (undefined if unknown). */
  total: number | undefined;
  succeeded: number;
  /** Failed tasks, those that settled as `cancelled` included. */
  failed: number;
  elapsedMs: number;
  /** True when the job was cancelled (or deleted) before every task settled. */
  cancelled: boolean;
  /** A run in threads here (`--local`): its job is gone once the CLI exits, so no hints. */
  local?: boolean;
  /** `--out` file the outcomes went to. */
  outFile?: string;
  errors: ErrorGroups;
}

/** Error groups shown in a summary. */
const TOP_GROUPS = 5;

/**
 * The summary text, ending with a newline.
 *
 * @example
 * // job j1 (squares): 1000 tasks: 990 succeeded, 10 failed in 12.3s (81.3 tasks/s)
 * //   top errors:
 * //     7 × program  RangeError: too big  (first: task 12)
 * //   look closer: tabgrid errors j1 · tabgrid replay j1 12
 */
export function formatSummary(s: SummaryInput): string {
  const settled = s.succeeded + s.failed;
  const perSecond =
    s.elapsedMs > 0 ? ` (${((settled * 1_000) / s.elapsedMs).toFixed(1)} tasks/s)` : '';
  const job = `job ${s.jobId}${s.name ? ` (${s.name})` : ''}`;
  const tasks = s.total === undefined ? plural(settled, 'task') : plural(s.total, 'task');
  const cancelledTasks = s.errors.cancelled;
  const counts = `${s.succeeded} succeeded, ${s.failed - cancelledTasks} failed${cancelledTasks > 0 ? `, ${cancelledTasks} cancelled` : ''}`;
  const lines = [`${job}: ${tasks}: ${counts} in ${formatDuration(s.elapsedMs)}${perSecond}`];
  if (s.cancelled) {
    const unsettled = s.total === undefined ? 0 : Math.max(0, s.total - settled);
    lines.push(
      `  the job was cancelled${unsettled > 0 ? `: ${plural(unsettled, 'task')} never settled` : ''}`,
    );
  }
  const top = s.errors.top(TOP_GROUPS);
  if (top.length > 0) {
    lines.push('  top errors:');
    const width = String(top[0]?.count ?? 0).length;
    const typeWidth = Math.max(...top.map((g) => g.type.length));
    for (const g of top) {
      const what = g.message === '' ? g.name : `${g.name}: ${g.message}`;
      lines.push(
        `    ${String(g.count).padStart(width)} × ${g.type.padEnd(typeWidth)}  ${what}  (first: task ${g.firstIndex})`,
      );
    }
    const more = s.errors.size - top.length;
    if (more > 0) lines.push(`    … and ${plural(more, 'other kind')} of error`);
    const replay = top.find((g) => g.type === 'program' || g.type === 'setup');
    if (!s.local)
      lines.push(
        `  look closer: tabgrid errors ${s.jobId}${replay ? ` · tabgrid replay ${s.jobId} ${replay.firstIndex}` : ''}`,
      );
  }
  if (s.outFile) lines.push(`  outcomes: ${s.outFile}`);
  return `${lines.join('\n')}\n`;
}

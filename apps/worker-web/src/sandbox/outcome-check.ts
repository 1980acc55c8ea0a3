import { attachedTagsProblem } from '@tabgrid/protocol/attached-frame';
import { hasBytes } from '@tabgrid/protocol/binary-frame';
import { checkTextForm } from '@tabgrid/protocol/bytes';
import { MAX_VALUE_DEPTH, valueDepth } from '@tabgrid/protocol/limits';
import { WORKER_LIMITS } from '@tabgrid/protocol/worker';
import type { ThreadTask } from '@tabgrid/job-runtime/sandbox-protocol';
import { TASK_LIMITS } from '@tabgrid/job-runtime/task-limits';

/**
 * Defence in depth against a thread whose runtime job code has subverted: the outcome texts a
 * thread reports are accepted only if they are exactly `count` protocol outcomes, in chunk
 * order, for the tasks the page gave that thread (`tasks[from]`, `tasks[from + 1]`, …) of the
 * job that thread runs. Returns undefined when they are, else why not (for the fault report).
 *
 * The texts are forwarded to the server as they are, so they are checked with the parser the
 * server uses (JSON.parse: same grammar, last duplicate key wins on both sides). A text that
 * passes here is read by the server as these same outcomes, and nothing else; and it breaks
 * none of the bounds the server checks on each outcome (WORKER_LIMITS: depth, error lengths,
 * ms, bytes tags), which would close the socket and lose every task of the frame. Sizes are the
 * OutcomeBuffer's part (runtime/outcome-buffer.ts).
 */
export function checkOutcomes(
  text: string,
  count: number,
  failures: number,
  jobId: string,
  tasks: readonly ThreadTask[],
  from: number,
  /**
   * Bytes of the message's attachments, when it has some: its tags must then be the attached
   * form and tile them exactly (@tabgrid/protocol/attached-frame), as the server's decoder
   * requires of the frame the page makes of them.
   */
  attachedBytes?: number,
): string | undefined {
  // V8's JSON.parse is iterative, so a deep text cannot overflow it; depth is checked per value
  // below, which costs nothing for the common primitive results (no scan of the whole text).
  let parsed: unknown;
  try {
    parsed = JSON.parse('[' + text + ']');
  } catch {
    return 'outcome text is not JSON';
  }
  if (!Array.isArray(parsed) || parsed.length !== count) {
    return `${Array.isArray(parsed) ? parsed.length : 'no'} outcomes where the message says ${count}`;
  }
  let failed = 0;
  const attached = attachedBytes !== undefined;
  const withBytes = hasBytes(text);
  const tagged: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const item = parsed[i] as Record<string, unknown> | null;
    const task = tasks[from + i];
    if (typeof item !== 'object' || item === null || Array.isArray(item) || !task) {
      return `outcome ${i} is not an outcome object`;
    }
    if (item.jobId !== jobId) return `outcome ${i} names another job`;
    if (item.index !== task.index) return `outcome ${i} is not for the task given (${task.index})`;
    const ms = item.ms;
    if (typeof ms !== 'number' || !(ms >= 0) || ms > WORKER_LIMITS.maxTaskMs) {
      return `outcome ${i} has no ms within the limit`;
    }
    if (item.ok === false) {
      failed++;
      const error = item.error as Record<string, unknown> | null;
      if (
        typeof error !== 'object' ||
        error === null ||
        typeof error.name !== 'string' ||
        typeof error.message !== 'string' ||
        typeof error.stack !== 'string' ||
        // Only the page decides that a task timed out (it terminates the thread to do so).
        'timedOut' in error ||
        (error.phase !== undefined && error.phase !== 'setup')
      ) {
        return `outcome ${i} has a malformed error`;
      }
      if (
        error.name.length > WORKER_LIMITS.maxErrorNameLength ||
        error.message.length > WORKER_LIMITS.maxErrorMessageLength ||
        error.stack.length > WORKER_LIMITS.maxErrorStackLength
      ) {
        return `outcome ${i} has an error longer than WORKER_LIMITS allow`;
      }
    } else if (item.ok !== true || !('value' in item)) {
      return `outcome ${i} is neither a value nor an error`;
    } else if (typeof item.value === 'object' && valueDepth(item.value) > MAX_VALUE_DEPTH) {
      return `a value nested deeper than ${MAX_VALUE_DEPTH} levels`;
    } else if (withBytes && attached) {
      tagged.push(item.value);
    } else if (withBytes) {
      try {
        checkTextForm(item.value, 'result');
      } catch {
        return `outcome ${i} has a bytes tag that does not decode`;
      }
    }
  }
  if (failed !== failures) return `${failed} failures where the message says ${failures}`;
  for (let i = 0; i < count; i++) {
    const series = (parsed[i] as { series?: unknown }).series;
    if (series !== undefined) {
      const wrong = checkSeries(series, withBytes && !attached);
      if (wrong !== undefined) return `outcome ${i} has ${wrong}`;
      if (attached) tagged.push(series);
    }
  }
  if (attached) {
    const wrong = attachedTagsProblem(tagged, attachedBytes);
    if (wrong !== undefined) return `attachments that do not match their tags (${wrong})`;
  }
  return undefined;
}

const LABEL = /^[\w.:/ -]{1,100}$/;

/** Why a task's collected series (issue #13) would break the server's bounds; else undefined. */
function checkSeries(series: unknown, withBytes: boolean): string | undefined {
  if (!Array.isArray(series) || series.length > TASK_LIMITS.labelsPerTask) {
    return 'series that are not a list within the labels per task';
  }
  const labels = new Set<string>();
  for (const entry of series as unknown[]) {
    const { label, values } = (entry ?? {}) as { label?: unknown; values?: unknown };
    if (typeof label !== 'string' || !LABEL.test(label) || labels.has(label)) {
      return 'a series label that is malformed or repeated';
    }
    labels.add(label);
    if (!Array.isArray(values) || values.length > TASK_LIMITS.valuesPerLabel) {
      return `series values that are not a list within ${TASK_LIMITS.valuesPerLabel}`;
    }
    if (valueDepth(values, TASK_LIMITS.dataDepth + 1) > TASK_LIMITS.dataDepth + 1) {
      return `series values nested deeper than ${TASK_LIMITS.dataDepth} levels`;
    }
    if (withBytes) {
      try {
        checkTextForm(values, 'series');
      } catch {
        return 'a bytes tag in its series that does not decode';
      }
    }
  }
  return undefined;
}

import { ErrorCode } from '@tabgrid/protocol/errors';
import { MAX_VALUE_DEPTH, checkDepth } from '@tabgrid/protocol/limits';
import { packValue, type CarriedValue } from '@tabgrid/protocol/packed-value';

/** How a task nested too deep is refused (one object for every task of every batch). */
const TASK_DEPTH = { what: 'task', code: ErrorCode.INVALID_TASK } as const;

/**
 * Submitted tasks (socket form) as the values the store keeps: JSON text, or packed when they
 * hold typed arrays (they arrive as socket.io binary attachments and stay bytes: header JSON
 * plus the attachments, no base64). An attachment named twice in one batch is refused. A task
 * nests no deeper than a tab may answer (a Run that returns its input must be able to): deeper
 * is TG_ERR_INVALID_TASK.
 */
export function encodeTasks(tasks: readonly unknown[]): CarriedValue[] {
  const seen = new Set<object>();
  return tasks.map((task) => {
    if (typeof task === 'object') checkDepth(task, MAX_VALUE_DEPTH, TASK_DEPTH);
    return packValue(task, seen);
  });
}

import { socketFormToJson } from '@tabgrid/protocol/bytes';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { MAX_VALUE_DEPTH, checkDepth } from '@tabgrid/protocol/limits';

/** How a task nested too deep is refused (one object for every task of every batch). */
const TASK_DEPTH = { what: 'task', code: ErrorCode.INVALID_TASK } as const;

/**
 * Submitted tasks (socket form) as the JSON texts the store keeps. Typed arrays arrive as
 * socket.io binary attachments; stored in the text form. A task nests no deeper than a tab may
 * answer (a Run that returns its input must be able to): deeper is TG_ERR_INVALID_TASK.
 */
export function encodeTasks(tasks: readonly unknown[]): string[] {
  return tasks.map((task) => {
    if (typeof task === 'object') checkDepth(task, MAX_VALUE_DEPTH, TASK_DEPTH);
    return socketFormToJson(task);
  });
}

/** How the sim's `tabgrid` and `console` turn job values into text, as the page's thread does. */
import { toTextForm } from '@tabgrid/protocol/bytes';
import { valueDepth } from '@tabgrid/protocol/limits';
import { TASK_LIMITS } from '@tabgrid/protocol/task-reports';

/** The value as the page serializes it: typed arrays in text form, depth ≤ 32, JSON. */
export function serialize(value: unknown, what: string): string {
  if (valueDepth(value, TASK_LIMITS.maxDataDepth) > TASK_LIMITS.maxDataDepth) {
    throw new RangeError(`${what}: the value nests deeper than ${TASK_LIMITS.maxDataDepth} levels`);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(toTextForm(value));
  } catch (error) {
    throw new TypeError(`${what}: the value cannot be sent as JSON (${String(error)})`);
  }
  return text ?? 'null';
}

/** console arguments as the page formats them: strings as-is, the rest bounded. */
export function formatLine(args: readonly unknown[]): string {
  let line = '';
  for (const arg of args) {
    if (line.length >= TASK_LIMITS.maxLogLength) break;
    let part: string;
    if (typeof arg === 'string') part = arg;
    else if (typeof arg === 'number' || typeof arg === 'boolean' || typeof arg === 'bigint') {
      part = String(arg);
    } else if (arg instanceof Error) part = `${arg.name}: ${arg.message}`;
    else {
      try {
        part = JSON.stringify(arg) ?? String(arg);
      } catch {
        part = String(arg);
      }
    }
    line += (line ? ' ' : '') + part;
  }
  return line.length > TASK_LIMITS.maxLogLength ? line.slice(0, TASK_LIMITS.maxLogLength) : line;
}

import type { CarriedValue, StoredErrorGroup, StoredOutcome } from './job-store.js';

/**
 * The key errors are grouped by: the message with every run of digits replaced by `#`, so
 * "bad pixel 7" and "bad pixel 57" are one group ("bad pixel #"), whose example keeps its
 * full message. The SQLite store calls it as the SQL function {@link ERROR_GROUP_SQL_FUNCTION}.
 */
export function errorGroupKey(message: string): string {
  return message.replace(/\d+/g, '#');
}

/** The name under which the SQLite store registers {@link errorGroupKey}. */
export const ERROR_GROUP_SQL_FUNCTION = 'tg_error_group';

/**
 * The `message` a stored failure's payload (a TaskFailure's JSON) carries, or '' when it has
 * none: what the error views group by, as SQLite's `json_extract(payload, '$.message')`. Never
 * throws: a payload that is no failure falls in the '' group.
 */
export function errorMessage(payload: CarriedValue): string {
  if (typeof payload !== 'string') return ''; // packed: a result, never a failure
  let failure: unknown;
  try {
    failure = JSON.parse(payload);
  } catch {
    return '';
  }
  if (typeof failure !== 'object' || failure === null || !('message' in failure)) return '';
  return typeof failure.message === 'string' ? failure.message : '';
}

/**
 * Failures (seq order) grouped as SQLite's error view groups them: by {@link errorGroupKey} of
 * their message, most frequent first (equal counts by key), each with its newest failure as the
 * example (SQLite's max(seq)). The memory store's error view.
 */
export function groupErrors(errors: readonly StoredOutcome[], limit: number): StoredErrorGroup[] {
  const groups = new Map<string, { count: number; example: StoredOutcome }>();
  for (const o of errors) {
    const key = errorGroupKey(errorMessage(o.payload));
    const group = groups.get(key);
    if (group) {
      group.count++;
      group.example = o;
    } else groups.set(key, { count: 1, example: o });
  }
  const sorted = [...groups].sort(
    ([a, x], [b, y]) => y.count - x.count || (a < b ? -1 : a > b ? 1 : 0),
  );
  return sorted
    .slice(0, Math.max(0, limit))
    .map(([message, g]) => ({ message, count: g.count, example: g.example }));
}

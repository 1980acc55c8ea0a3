/**
 * The `message` a stored failure's payload (a TaskFailure's JSON) carries, or '' when it has
 * none: what the error views group by, as SQLite's `json_extract(payload, '$.message')`. Never
 * throws: a payload that is no failure falls in the '' group.
 */
export function errorMessage(payload: string): string {
  let failure: unknown;
  try {
    failure = JSON.parse(payload);
  } catch {
    return '';
  }
  if (typeof failure !== 'object' || failure === null || !('message' in failure)) return '';
  return typeof failure.message === 'string' ? failure.message : '';
}

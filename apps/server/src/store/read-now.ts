/**
 * A synchronous read as a promise: its result, or its error as a rejection, so a caller that
 * chains `.then`/`.catch` on a store read never sees it throw instead.
 */
export function readNow<T>(read: () => T): Promise<T> {
  try {
    return Promise.resolve(read());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

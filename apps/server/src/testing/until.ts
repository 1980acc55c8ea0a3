/**
 * Polling for a condition that real sockets make true "soon": the one wait every integration
 * test uses, so a timeout always says what was being waited for.
 */

export interface UntilOptions {
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
  /** What is awaited, for the error ("the job done", "tasks leased"). */
  what?: string;
  /** Poll period (default 10 ms). */
  intervalMs?: number;
}

/** What `until` treats as "not yet". */
type NotYet = false | undefined | null;

/**
 * Resolves with the first value of `condition` that is neither `false`, `undefined` nor `null`
 * (so it can wait for a boolean or for something to appear); rejects after `timeoutMs` with a
 * message naming `what`.
 *
 * @example await until(() => worker.held === 10, { timeoutMs: 2000, what: 'worker full' });
 * @example const ack = await until(() => acks.get(1), { timeoutMs: 10_000, what: 'ack 1' });
 */
export async function until<T>(
  condition: () => T | Promise<T>,
  options: UntilOptions = {},
): Promise<Exclude<T, NotYet>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== false && value !== undefined && value !== null)
      return value as Exclude<T, NotYet>;
    if (Date.now() > end) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}

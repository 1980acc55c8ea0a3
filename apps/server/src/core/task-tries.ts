/**
 * Failure counts of one job's tasks that have not settled yet: failed attempts (lost or timed
 * out), retries granted after Run threw, and the identities whose tab dropped running a task
 * alone. Failures are rare: the maps stay empty for a job whose tasks just succeed.
 */
export class TaskTries {
  private readonly _attempts = new Map<number, number>();
  private readonly errorRetries = new Map<number, number>();
  /**
   * Per suspect, the worker identities whose tab dropped while running it alone. A crash is
   * charged once per identity: one host that takes a task and hangs up, again and again, cannot
   * settle it as `lost` (nor pause its job) by itself.
   */
  private readonly crashedOn = new Map<number, Set<string>>();

  /** Failed attempts by task index (read-only). */
  get attempts(): ReadonlyMap<number, number> {
    return this._attempts;
  }

  /** Whether any task has failed attempts or retries counted. */
  get any(): boolean {
    return this._attempts.size > 0 || this.errorRetries.size > 0;
  }

  attemptsOf(index: number): number {
    return this._attempts.get(index) ?? 0;
  }

  /** Task `index` failed its `attempts`-th attempt and runs again. */
  countAttempt(index: number, attempts: number): void {
    this._attempts.set(index, attempts);
  }

  /** Retries granted so far to task `index` whose Run threw. */
  errorRetriesOf(index: number): number {
    return this.errorRetries.get(index) ?? 0;
  }

  /** Task `index` threw and is granted retry number `retries`. */
  countErrorRetry(index: number, retries: number): void {
    this.errorRetries.set(index, retries);
  }

  /** Counts read back from the store at startup. */
  restore(index: number, attempts: number, errorRetries: number): void {
    if (attempts > 0) this._attempts.set(index, attempts);
    if (errorRetries > 0) this.errorRetries.set(index, errorRetries);
  }

  /** Task `index`'s counts as the store saves them (so a restart does not reset them). */
  saved(index: number): { attempts: number; errorRetries: number } {
    return { attempts: this.attemptsOf(index), errorRetries: this.errorRetriesOf(index) };
  }

  /** Records that `identity`'s tab dropped running task `index` alone; false if it had before. */
  firstCrashBy(index: number, identity: string): boolean {
    const seen = this.crashedOn.get(index);
    if (seen?.has(identity)) return false;
    if (seen) seen.add(identity);
    else this.crashedOn.set(index, new Set([identity]));
    return true;
  }

  /** Task `index` settled: its counts are forgotten. */
  forget(index: number): void {
    this._attempts.delete(index);
    this.errorRetries.delete(index);
    this.crashedOn.delete(index);
  }

  clear(): void {
    this._attempts.clear();
    this.errorRetries.clear();
    this.crashedOn.clear();
  }
}

/**
 * One thread's time limit. Restarted on every message from the thread (hundreds per second),
 * so a later deadline is picked up lazily when the timer fires instead of resetting a timer
 * each time; an earlier one (the startup grace ended) re-arms it.
 */
export class ThreadWatchdog {
  /** When the thread last sent something. */
  lastProgress = 0;
  private deadline = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires. */
  private timerAt = 0;

  /**
   * @param watching whether the thread still runs a chunk (if not, a firing timer does nothing)
   * @param onExpired the thread sent nothing before its deadline
   */
  constructor(
    private readonly watching: () => boolean,
    private readonly onExpired: () => void,
  ) {}

  /** Something arrived from the thread: it has `budgetMs` from now to send more. */
  restart(budgetMs: number): void {
    this.lastProgress = performance.now();
    this.deadline = this.lastProgress + budgetMs;
    if (this.timer !== undefined && this.timerAt <= this.deadline) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.arm();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const wait = Math.max(0, this.deadline - performance.now());
    this.timerAt = performance.now() + wait;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.watching()) return;
      if (performance.now() < this.deadline) this.arm();
      else this.onExpired();
    }, wait);
  }
}

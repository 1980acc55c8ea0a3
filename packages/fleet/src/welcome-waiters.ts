/** Callers of `SimWorker.start()` waiting for the next `welcome`. */
export class WelcomeWaiters {
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  /** Resolves on the next {@link resolveAll}, rejects on the next {@link rejectAll}. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  resolveAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  rejectAll(error: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}

/**
 * How the thread pool starts and stops its job threads. The pool depends on this interface
 * only: the page wires `WebWorkerThreadHost` (web-worker-thread-host.ts) in main.tsx, unit
 * tests inject a host of their own.
 */
export interface ThreadHost {
  /** Starts a thread; returns its id (for {@link terminate}) and the page's end of its channel. */
  spawn(): { workerId: number; port: MessagePort };
  terminate(workerId: number): void;
  dispose(): void;
}

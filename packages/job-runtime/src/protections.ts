/**
 * The thread runtime's protections, each one switchable only so that the escape probes can show
 * they catch the hole when it is open (e2e/tests/sandbox-escape.spec.ts builds weakened runtimes
 * with `threadSource`, tests only). The page ships SANDBOX_WORKER_SOURCE (thread-source.ts), a
 * constant with every one on: nothing the page reads (URL, storage, messages) can turn one off.
 */
export interface Protections {
  /** The shipped script and job code run in strict mode. */
  strict: boolean;
  /** `Error.prepareStackTrace` fixed to undefined and `Error`'s stack statics unwritable. */
  stackApi: boolean;
  /** `Promise.prototype` frozen (the runtime's `await`s read its `constructor`). */
  intrinsics: boolean;
  /** Network, storage, worker and DOM globals replaced by throwers up the prototype chain. */
  throwers: boolean;
  /**
   * Page messages read through the `MessageEvent.prototype.data` getter captured before job
   * code runs (off: read `event.data`, which job code can redefine to see and forge them).
   */
  captures: boolean;
}

export const ALL_PROTECTIONS: Readonly<Protections> = Object.freeze({
  strict: true,
  stackApi: true,
  intrinsics: true,
  throwers: true,
  captures: true,
});

/**
 * What the process does when something escapes every catch. Every push, settle and stream path
 * catches its own errors (the task or stream concerned fails); reaching here means a bug.
 *
 * - An unhandled promise rejection is logged loudly, with its stack, and the server keeps
 *   serving: the rejected chain has already unwound, and the scheduler's state is per task, so
 *   one lost continuation must not take every tenant's jobs and every volunteer's tab down.
 * - An uncaught exception is logged, then the process exits with code 1 for its supervisor
 *   (systemd, Docker `restart: always`, …): Node cannot vouch for a consistent state after one.
 *   Acknowledged writes are durable in the store; a restart requeues what was in flight.
 *
 * main.ts installs it first thing: `installCrashPolicy(console)` or with Fastify's logger.
 */

/** Anything with pino's (and console's) `error(object, message)`. */
export interface CrashLog {
  error(details: object, message: string): void;
}

export interface CrashPolicyOptions {
  /** Ends the process (default `process.exit`); tests pass their own. */
  exit?: (code: number) => void;
  /** Exit on an uncaught exception (default true). */
  exitOnException?: boolean;
}

export interface CrashHandlers {
  onRejection(reason: unknown): void;
  onException(error: unknown): void;
  /** Unhandled rejections seen since installation. */
  readonly rejections: number;
}

function details(reason: unknown): object {
  return reason instanceof Error
    ? { name: reason.name, message: reason.message, stack: reason.stack }
    : { reason: String(reason) };
}

/** The handlers of the policy, without installing them. */
export function crashHandlers(log: CrashLog, options: CrashPolicyOptions = {}): CrashHandlers {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let rejections = 0;
  return {
    get rejections() {
      return rejections;
    },
    onRejection(reason) {
      rejections++;
      log.error(
        details(reason),
        `tabgrid: UNHANDLED PROMISE REJECTION #${rejections} — a bug, please report it with this stack. The server keeps serving.`,
      );
    },
    onException(error) {
      const leaving = options.exitOnException ?? true;
      log.error(
        details(error),
        leaving
          ? 'tabgrid: UNCAUGHT EXCEPTION — a bug, please report it with this stack. Exiting with code 1 for the supervisor to restart the server.'
          : 'tabgrid: UNCAUGHT EXCEPTION — a bug, please report it with this stack. The server keeps serving.',
      );
      if (leaving) exit(1);
    },
  };
}

/** Installs the policy on `process`; returns the function that removes it again. */
export function installCrashPolicy(
  log: CrashLog,
  options: CrashPolicyOptions = {},
): (() => void) & { handlers: CrashHandlers } {
  const handlers = crashHandlers(log, options);
  const onRejection = (reason: unknown) => handlers.onRejection(reason);
  const onException = (error: unknown) => handlers.onException(error);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const uninstall = () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
  return Object.assign(uninstall, { handlers });
}

/**
 * What the core logs through: the shape of pino's `info(details, message)` (Fastify's logger is
 * one), so the core stays framework-free and app.ts hands it the server's logger. Lines are per
 * job or per batch, never per task: a grid settles tens of thousands of tasks a second.
 */
export interface CoreLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** The default without a logger (tests, embedders): warnings and errors to stderr, no info. */
export const consoleLog: CoreLog = {
  info: () => {},
  warn: (details, message) => console.error(`tabgrid: ${message}`, details),
  error: (details, message) => console.error(`tabgrid: ${message}`, details),
};

/** `err` as log details: its name, message, code (a TabgridError's) and stack. */
export function errorDetails(err: unknown): object {
  if (!(err instanceof Error)) return { err: String(err) };
  const code = (err as { code?: unknown }).code;
  return {
    err: {
      type: err.name,
      message: err.message,
      ...(typeof code === 'string' ? { code } : {}),
      stack: err.stack,
    },
  };
}

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

/**
 * `err` as log details, under pino's `err` key: pino's serializer writes its type, message,
 * stack and own fields (a TabgridError's `code`); console shows the Error as it is.
 */
export function errorDetails(err: unknown): { err: unknown } {
  return { err: err instanceof Error ? err : String(err) };
}

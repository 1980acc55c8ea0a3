/**
 * The server's logger: pino (Fastify's own), at TABGRID_LOG_LEVEL. Off a terminal (systemd,
 * Docker, a pipe) every line is one JSON object — `level` as its name, `time` ISO 8601, `msg`,
 * and `code` on every error — for a log shipper; on a terminal, one readable line each
 * (pino-pretty). Both write synchronously: a line logged just before `process.exit` is not lost.
 */
import { format } from 'node:util';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from '../config.js';
import { errorDetails } from '../core/core-log.js';

export interface LoggerOptions {
  level: LogLevel;
  /** Readable lines instead of JSON (default: whether stdout is a terminal). */
  pretty?: boolean;
  /** Where lines go (default stdout); tests pass a stream they read. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const readable = options.pretty ?? process.stdout.isTTY === true;
  if (readable) {
    return pino(
      { level: options.level },
      pretty({
        sync: true,
        singleLine: true,
        colorize: options.destination === undefined,
        translateTime: 'SYS:HH:MM:ss',
        ignore: 'pid,hostname',
        ...(options.destination ? { destination: options.destination } : {}),
      }),
    );
  }
  return pino(
    {
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * Sends what the process writes through `console` (the core's last-resort lines, a library's
 * warning) into the log, so that off a terminal every line is JSON; an Error among the
 * arguments gives the line its `err` with code and stack. Returns the function that undoes it.
 */
export function routeConsole(log: Logger): () => void {
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error };
  const line =
    (write: (details: object, message: string) => void) =>
    (...args: unknown[]) => {
      const err = args.find((arg) => arg instanceof Error);
      const text = format(...args.filter((arg) => arg !== err));
      write(err === undefined ? {} : errorDetails(err), text.replace(/^tabgrid: /, ''));
    };
  console.log = line((d, m) => log.info(d, m));
  console.info = line((d, m) => log.info(d, m));
  console.warn = line((d, m) => log.warn(d, m));
  console.error = line((d, m) => log.error(d, m));
  return () => Object.assign(console, saved);
}

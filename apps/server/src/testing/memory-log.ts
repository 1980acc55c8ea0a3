/** The server's JSON logger (ops/logging.ts) writing into memory, for tests that read its lines. */
import type { Logger } from 'pino';
import type { LogLevel } from '../config.js';
import { createLogger } from '../ops/logging.js';

export interface MemoryLog {
  logger: Logger;
  /** Every line so far, parsed (each must be one JSON object: that is what is tested). */
  lines(): Record<string, unknown>[];
}

export function memoryLog(level: LogLevel = 'info'): MemoryLog {
  const written: string[] = [];
  const logger = createLogger({
    level,
    pretty: false,
    destination: { write: (line: string) => void written.push(line) },
  });
  return {
    logger,
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

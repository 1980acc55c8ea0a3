import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';

/** Longest accepted line: one task must fit in memory, a runaway line must not. */
const MAX_LINE = 16 * 1024 * 1024;

export class LineTooLongError extends Error {
  constructor(
    readonly lineNumber: number,
    readonly limit: number,
  ) {
    super(`Line ${lineNumber} is longer than ${limit / 1024 / 1024} MB`);
  }
}

/**
 * Splits a byte stream into lines and hands them over in batches, reading no further until the
 * batch is handled: a million-line upload is held one batch at a time.
 */
export async function forEachLineBatch(
  body: Readable,
  batchSize: number,
  onBatch: (lines: string[], firstLineNumber: number) => Promise<void>,
): Promise<void> {
  let carry = '';
  let batch: string[] = [];
  let lineNumber = 0;
  let batchStart = 1;
  const flush = async () => {
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    await onBatch(lines, batchStart);
  };
  body.setEncoding('utf8');
  for await (const chunk of body as AsyncIterable<string>) {
    const parts = (carry + chunk).split('\n');
    carry = parts.pop() ?? '';
    const tooLong = carry.length > MAX_LINE;
    for (const part of parts) {
      lineNumber++;
      if (batch.length === 0) batchStart = lineNumber;
      batch.push(part);
      if (batch.length >= batchSize) await flush();
    }
    if (tooLong) {
      await flush(); // the complete lines before it are accepted
      throw new LineTooLongError(lineNumber + 1, MAX_LINE);
    }
  }
  if (carry.trim() !== '') {
    lineNumber++;
    if (batch.length === 0) batchStart = lineNumber;
    batch.push(carry);
  }
  await flush();
}

/** Writes with backpressure: waits for `drain` when the socket buffer is full. */
export async function writeLine(out: Writable, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await once(out, 'drain');
}

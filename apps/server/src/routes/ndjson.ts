import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Longest accepted line: one task must fit in memory, a runaway line must not. */
const MAX_LINE = 16 * 1024 * 1024;
/** A batch is handed over at this size even when it has fewer lines: memory stays bounded. */
const MAX_BATCH_CHARS = 8 * 1024 * 1024;

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
  let batchChars = 0;
  let lineNumber = 0;
  let batchStart = 1;
  const flush = async () => {
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    batchChars = 0;
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
      batchChars += part.length;
      if (batch.length >= batchSize || batchChars >= MAX_BATCH_CHARS) await flush();
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

/**
 * Trailing whitespace that completes a held-back line once a live stream falls quiet. It must
 * exceed the most a reader takes from its socket at once: Python's `io.DEFAULT_BUFFER_SIZE`
 * (8 KiB) for `requests`, whose raw reader CrowdProcess's client reads a byte at a time, so
 * every padding byte costs it ~4 µs: no more than needed.
 */
export const QUIET_PAD_BYTES = 9 * 1024;
/** How long a live stream waits for more lines before it completes the held-back one. */
export const QUIET_FLUSH_MS = 50;

/**
 * Writes a live NDJSON stream so that a reader which `select()`s on the socket and then reads
 * one line from a buffered reader (CrowdProcess's Python client) always gets every line.
 *
 * Such a reader pulls everything the socket holds (up to its buffer size) into its buffer, then
 * waits in `select()` again: lines left in its buffer are read only when more bytes arrive. So
 * the stream never stops on a line boundary while it is quiet: the newline of the last line
 * written is held back and sent at the front of the next write; when no more lines come for
 * {@link QUIET_FLUSH_MS}, it is sent after {@link QUIET_PAD_BYTES} of spaces (JSON allows
 * whitespace around a value). Any buffer-sized read that takes that final newline holds no other
 * newline, so the reader is left with no complete line unread; while the padding is on its way,
 * the socket is readable and the reader drains what it holds. Other readers see the same lines,
 * the last line of a burst a moment later, with trailing spaces.
 */
export class LiveNdjsonWriter {
  private heldNewline = false;
  private quietTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Writable,
    private readonly quietMs = QUIET_FLUSH_MS,
  ) {}

  /** Writes the lines; returns what `write` returned (false: wait for 'drain'). */
  write(lines: string[]): boolean {
    if (lines.length === 0) return true;
    const text = (this.heldNewline ? '\n' : '') + lines.join('\n');
    this.heldNewline = true;
    this.armQuietTimer();
    return this.out.write(text);
  }

  /** Completes the held-back line and ends the response. */
  end(): void {
    this.stop();
    if (this.heldNewline) this.out.write('\n');
    this.heldNewline = false;
    this.out.end();
  }

  stop(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
  }

  private armQuietTimer(): void {
    this.stop();
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      if (!this.heldNewline || this.out.writableEnded) return;
      this.heldNewline = false;
      this.out.write(`${' '.repeat(QUIET_PAD_BYTES)}\n`);
    }, this.quietMs);
    this.quietTimer.unref();
  }
}

/** A stream's end, as the core reports it (`error`: it could not deliver the rest). */
export interface NdjsonSink<T> {
  push(items: T[], ready: () => void): void;
  end(reason: string, message?: string): void;
}

/** Where an NDJSON answer reads its items: pages of what is stored, or a live subscription. */
export interface NdjsonSource<T extends { seq: number }> {
  /** One page of items after seq `after` (fewer than `limit`: the last page). */
  readPage(after: number, limit: number): Promise<T[]>;
  /** Starts a live stream from seq `from` under `id`; returns the function that stops it. */
  follow(id: string, from: number, sink: NdjsonSink<T>): () => void;
  /** The text of one line. */
  line(item: T): string;
}

const READ_PAGE = 2000;

/**
 * Answers with NDJSON: everything stored after `from`, or (`live`) a live stream from `from`
 * until the core ends it. The status line goes out first, so a failure later cuts the body short
 * (HTTP's "incomplete"), and the client resumes with `?from`.
 */
export async function sendNdjson<T extends { seq: number }>(
  request: FastifyRequest,
  reply: FastifyReply,
  options: { from: number; live: boolean; id: string; what: string },
  source: NdjsonSource<T>,
): Promise<void> {
  const { from, live } = options;
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
    // A live stream's end is a FIN too: a reader that waits in select() on the socket (see
    // LiveNdjsonWriter) wakes for it and reads what its buffer still holds.
    ...(live ? { connection: 'close' } : {}),
  });
  // Send the headers now: a live stream may wait long for its first line, and clients (requests'
  // stream=True) block until they see the status.
  out.flushHeaders();
  if (!live) {
    try {
      for (let cursor = from; ;) {
        const page = await source.readPage(cursor, READ_PAGE);
        for (const item of page) await writeLine(out, source.line(item));
        if (page.length < READ_PAGE) break;
        cursor = page[page.length - 1]!.seq;
      }
      out.end();
    } catch (err) {
      request.log.error({ err }, `reading ${options.what} failed`);
      out.destroy();
    }
    return;
  }
  const writer = new LiveNdjsonWriter(out);
  const stop = source.follow(options.id, from, {
    push: (items, ready) => {
      if (writer.write(items.map((item) => source.line(item)))) ready();
      else out.once('drain', ready);
    },
    // A stream the server could not finish (an undecodable row, say) is cut short, not ended
    // cleanly: the client sees an incomplete response and resumes with ?from.
    end: (reason) => (reason === 'error' ? out.destroy() : writer.end()),
  });
  out.on('close', () => {
    writer.stop();
    stop();
  });
}

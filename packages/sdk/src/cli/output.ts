/**
 * What every CLI command shares for its output: where it writes (with backpressure), JSON lines
 * that show typed arrays as arrays, aligned tables, and human durations and ages.
 */
import type { Writable } from 'node:stream';

/** A place the CLI writes text to: stdout, stderr, a `--out` file, or a buffer in tests. */
export interface Sink {
  /** Writes `text`; resolves once the destination is ready for more (backpressure). */
  write: (text: string) => Promise<void>;
  /** True when a person is watching (a terminal): progress then redraws one line. */
  readonly isTTY: boolean;
}

/** A {@link Sink} over a Node stream that waits for `drain` when the stream's buffer is full. */
export function streamSink(stream: Writable & { isTTY?: boolean }): Sink {
  return {
    isTTY: stream.isTTY === true,
    write: (text) =>
      new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        stream.once('error', onError);
        const settle = () => {
          stream.off('error', onError);
          resolve();
        };
        if (stream.write(text)) settle();
        else stream.once('drain', settle);
      }),
  };
}

/** The CLI's streams: results and data to `out`, progress, summaries and errors to `err`. */
export interface Io {
  out: Sink;
  err: Sink;
}

/**
 * JSON that shows typed arrays as arrays of numbers and bigints as strings: the SDK hands typed
 * arrays back as they were sent, and `JSON.stringify` would print them as `{"0":…}` objects.
 */
export function plainJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, item: unknown) =>
      ArrayBuffer.isView(item) && !(item instanceof DataView)
        ? Array.from(item as unknown as ArrayLike<number | bigint>, (n) =>
            typeof n === 'bigint' ? n.toString() : n,
          )
        : typeof item === 'bigint'
          ? item.toString()
          : item,
    ) ?? 'null'
  );
}

/** One NDJSON line (with its newline). */
export const jsonLine = (value: unknown): string => `${plainJson(value)}\n`;

/**
 * Rows as columns padded to their widest cell, two spaces apart; the columns whose index is in
 * `alignRight` (numbers) are right-aligned. The first row is the header.
 *
 * @example
 * table([['ID', 'N'], ['a', '10'], ['bb', '2']], new Set([1])); // 'ID   N\na   10\nbb   2'
 */
export function table(
  rows: readonly (readonly string[])[],
  alignRight = new Set<number>(),
): string {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, col) =>
    Math.max(...rows.map((row) => (row[col] ?? '').length)),
  );
  return rows
    .map((row) =>
      row
        .map((cell, col) =>
          alignRight.has(col) ? cell.padStart(widths[col] ?? 0) : cell.padEnd(widths[col] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * A duration for people: `850ms`, `12.3s`, `4m 05s`, `2h 03m`, `3d 4h`.
 *
 * @example
 * formatDuration(65_000); // '1m 05s'
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1_000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (whole < 3_600) return `${Math.floor(whole / 60)}m ${pad(whole % 60)}s`;
  if (whole < 86_400) return `${Math.floor(whole / 3_600)}h ${pad(Math.floor(whole / 60) % 60)}m`;
  return `${Math.floor(whole / 86_400)}d ${Math.floor(whole / 3_600) % 24}h`;
}

/**
 * How long ago `iso` was, to the largest whole unit: `12s`, `4m`, `3h`, `2d` (`?` if unreadable).
 *
 * @example
 * formatAge('2026-12-01T10:00:00Z', Date.parse('2026-12-01T10:04:30Z')); // '4m'
 */
export function formatAge(iso: string, now: number): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '?';
  const seconds = Math.max(0, Math.floor((now - then) / 1_000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** `n thing` or `n things`. */
export const plural = (n: number, thing: string): string => `${n} ${thing}${n === 1 ? '' : 's'}`;

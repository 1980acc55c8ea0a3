/**
 * Where `run` and `watch` write outcomes: a `--out` file, or stdout. On a terminal that also
 * shows the progress bar, lines go above the bar instead of through it.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { UsageError } from './flags.js';
import { streamSink, type Sink } from './output.js';
import type { ProgressView } from './progress-view.js';

export interface OutFile extends Sink {
  close: () => Promise<void>;
}

/** Opens (creates or truncates) `path` for NDJSON outcomes; fails now if it cannot. */
export async function openOutFile(path: string): Promise<OutFile> {
  const stream: WriteStream = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) =>
      reject(new UsageError(`Cannot write --out ${path}: ${error.message}.`)),
    );
  });
  const sink = streamSink(stream);
  let closed: Promise<void> | undefined;
  return {
    isTTY: false,
    write: sink.write,
    close: () =>
      (closed ??= new Promise<void>((resolve, reject) =>
        stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
      )),
  };
}

/** The sink for outcome lines: the `--out` file, else above the bar, else stdout. */
export function outcomeSink(
  out: OutFile | undefined,
  stdout: Sink,
  stderr: Sink,
  view: ProgressView,
  showsBar: boolean,
): Sink {
  if (out) return out;
  if (stdout.isTTY && stderr.isTTY && showsBar) return { isTTY: true, write: view.log };
  return stdout;
}

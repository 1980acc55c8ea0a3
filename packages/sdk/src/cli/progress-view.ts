/**
 * Progress of `tabgrid run` and `tabgrid watch` on stderr: on a terminal a live bar redrawn in
 * place; otherwise (a log file, CI) one plain line every few seconds, which reads well in a log.
 *
 * The bar is cli-progress: widely used (tens of millions of downloads a week), maintained, one
 * small dependency (string-width), and it handles what a hand-written `\r` line gets wrong:
 * terminal width and line wrap, the hidden cursor restored on exit, redraw throttling, and
 * printing other lines above the bar (`MultiBar.log`) so outcomes on the same terminal do not
 * tear it.
 */
import cliProgress from 'cli-progress';
import { formatDuration, plural, type Sink } from './output.js';
import type { ProgressSnapshot } from './progress-tracker.js';

/** What the view shows besides the tracker's numbers. */
export interface ProgressLine extends ProgressSnapshot {
  /** Tasks read and submitted so far, while the total is not known yet. */
  submitted?: number;
}

export interface ProgressView {
  /** Prints a line above the bar (or just prints it, without a bar). */
  log: (text: string) => Promise<void>;
  /** Draws the last state and stops redrawing. */
  stop: () => Promise<void>;
}

export interface ProgressViewOptions {
  /** Where progress goes (stderr). */
  sink: Sink;
  /** The stream behind `sink`, for the bar to draw on (only when `sink.isTTY`). */
  stream: NodeJS.WritableStream;
  /** `job j1` or similar, at the start of every plain line. */
  label: string;
  /** The current numbers, asked for at every redraw. */
  read: () => ProgressLine;
  /** Between plain lines (ms). */
  everyMs: number;
  /** `off`: nothing until the summary. */
  mode: 'auto' | 'off';
}

const rate = (r: number | undefined) => (r === undefined ? '… tasks/s' : `${r.toFixed(1)} tasks/s`);
const count = (p: ProgressLine) =>
  p.total !== undefined ? `${p.settled}/${p.total}` : `${p.settled}/${p.submitted ?? '?'}+`;

/** The numbers as words: `412/1000 settled, 3 failed, 83.2 tasks/s, elapsed 5.0s, ETA 7.1s`. */
export function describeProgress(p: ProgressLine): string {
  const eta = p.etaMs === undefined ? '' : `, ETA ${formatDuration(p.etaMs)}`;
  return `${count(p)} settled, ${p.failed} failed, ${rate(p.rate)}, elapsed ${formatDuration(p.elapsedMs)}${eta}`;
}

/** Starts showing progress; `stop()` it before printing the summary. */
export function showProgress(options: ProgressViewOptions): ProgressView {
  if (options.mode === 'off')
    return { log: (text) => options.sink.write(text), stop: async () => {} };
  return options.sink.isTTY ? barView(options) : lineView(options);
}

function lineView({ sink, label, read, everyMs }: ProgressViewOptions): ProgressView {
  let writing = Promise.resolve();
  const timer = setInterval(() => {
    writing = writing.then(() => sink.write(`tabgrid: ${label}: ${describeProgress(read())}\n`));
  }, everyMs);
  timer.unref();
  return {
    log: (text) => sink.write(text),
    async stop() {
      clearInterval(timer);
      await writing;
    },
  };
}

function barView({ stream, read }: ProgressViewOptions): ProgressView {
  const multi = new cliProgress.MultiBar({
    stream,
    hideCursor: true,
    clearOnComplete: false,
    // Redrawn on its own timer (fps), so rate and elapsed time move while nothing settles.
    fps: 5,
    forceRedraw: true,
    linewrap: false,
    barsize: 24,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    format: (opts, params, payload: { line?: ProgressLine }) => {
      const line = payload.line;
      const bar = cliProgress.Format.BarFormat(params.progress, opts);
      if (!line) return bar;
      const eta = line.etaMs === undefined ? '' : ` · ETA ${formatDuration(line.etaMs)}`;
      const failed = line.failed > 0 ? ` · ${plural(line.failed, 'failure')}` : '';
      return `${bar} ${count(line)}${failed} · ${rate(line.rate)} · ${formatDuration(line.elapsedMs)}${eta}`;
    },
  });
  const totalOf = (line: ProgressLine) => Math.max(1, line.total ?? line.submitted ?? line.settled);
  const first = read();
  const bar = multi.create(totalOf(first), first.settled, { line: first });
  const refresh = () => {
    const line = read();
    bar.setTotal(totalOf(line));
    bar.update(line.settled, { line });
  };
  const timer = setInterval(refresh, 200);
  timer.unref();
  return {
    log: (text) => {
      multi.log(text.endsWith('\n') ? text : `${text}\n`);
      return Promise.resolve();
    },
    stop() {
      clearInterval(timer);
      refresh();
      multi.update();
      multi.stop();
      return Promise.resolve();
    },
  };
}

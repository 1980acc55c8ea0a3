/**
 * Collected series (`tabgrid.collect(label, value)`) travel inside their task's outcome and are
 * stored with it, in the same commit: the series of a settled task are exactly its settled
 * attempt's, durable exactly when its outcome is, and nothing is staged here in between.
 *
 * The page caps what a task collects, but a hostile page skips its caps, so they are checked
 * again per task (at most {@link MAX_LABELS_PER_TASK} distinct labels, {@link MAX_SERIES_CHARS_PER_TASK}
 * of values text) and per job (`maxSeriesBytesPerJob`). What is over is dropped and counted in the
 * job's record (`seriesDropped`); the first time a job reaches its cap, every connection that
 * has its program is told (`limit` frame), so honest threads throw inside Run from then on.
 * Caps are applied from array lengths and the text already made, never by looking into what is
 * dropped. Values stay JSON text from here on (bytes tags in their text form), never re-parsed.
 */

import { jsonByteLength } from '@tabgrid/protocol/bytes';
import { TASK_LIMITS, type ReportSeries } from '@tabgrid/protocol/task-reports';

/** Distinct labels one task may collect into. */
export const MAX_LABELS_PER_TASK = TASK_LIMITS.maxLabelsPerTask;
/** Serialized values one task may collect, counted in UTF-16 code units (bytes for ASCII JSON). */
export const MAX_SERIES_CHARS_PER_TASK = TASK_LIMITS.maxSeriesBytesPerTask;
/** Default of `maxSeriesBytesPerJob` (server option `TABGRID_MAX_SERIES_BYTES_PER_JOB`). */
export const DEFAULT_MAX_SERIES_BYTES_PER_JOB = TASK_LIMITS.defaultMaxSeriesBytesPerJob;

/** One label of one outcome's series, as decoded (bounded by its schema). */
export type OutcomeSeries = ReportSeries;

/** One label's values of a task about to settle: the JSON text of its values array. */
export interface TaskSeries {
  label: string;
  valuesJson: string;
}

/** The settled tasks' series of one label, as `store.settle` writes them ("seq,index,values"). */
export interface SeriesLines {
  label: string;
  lines: string[];
}

/** A job, as far as the sink reads and charges it (the core's job runtime is one). */
export interface SeriesJob {
  readonly record: { readonly id: string };
  readonly counters: {
    readonly seriesBytes: number;
    /** `chars` more series stored, `droppedValues` more values dropped over a cap. */
    noteSeries(chars: number, droppedValues: number): void;
  };
}

/** What the sink needs of the rest of the core. */
export interface SeriesSinkDeps {
  /** Serialized series a job may store in all. */
  maxBytesPerJob: number;
  /** The job reached its cap: tell every connection that has its program (once per job). */
  limitReached(jobId: string): void;
}

export class SeriesSink {
  /** Outcomes taken with series that {@link lines} has not collected yet (0 on the plain path). */
  private pendingOutcomes = 0;
  /** Jobs told they reached their cap (in memory: after a restart, the next overflow tells again). */
  private readonly told = new WeakSet<SeriesJob>();

  constructor(private readonly deps: SeriesSinkDeps) {}

  /** Whether some settled outcome carries series (settlement checks this once per batch). */
  get pending(): boolean {
    return this.pendingOutcomes > 0;
  }

  /**
   * Checks and encodes the series of a task of `job` that is about to settle, charging them to
   * the job; returns what is kept (undefined: nothing). Over a cap the rest is dropped and its
   * values counted.
   */
  take(job: SeriesJob, series: readonly OutcomeSeries[]): TaskSeries[] | undefined {
    const max = this.deps.maxBytesPerJob;
    // Once a job was told it reached its cap, it stays reached (its honest threads stopped).
    let stored = this.told.has(job) ? max : job.counters.seriesBytes;
    let taskChars = 0; // what the thread counts: each value's own text
    let storedChars = 0;
    let dropped = 0;
    let full = false;
    const kept: TaskSeries[] = [];
    const seen = new Set<string>();
    for (const { label, values } of series) {
      if (full || seen.has(label) || seen.size >= MAX_LABELS_PER_TASK || stored >= max) {
        dropped += values.length;
        continue;
      }
      // A hostile page may send up to a frame's worth of values under one label: measure them
      // (bounded: counting stops past the room) before building their text, so what is over a
      // cap is never encoded. UTF-8 bytes ≤ 3 × UTF-16 chars, so past 3 × room is surely over.
      const taskRoom = MAX_SERIES_CHARS_PER_TASK - taskChars + values.length + 1;
      const jobRoom = max - stored;
      const room = Math.min(taskRoom, jobRoom);
      if (jsonByteLength(values, 3 * room) === Infinity) {
        if (taskRoom <= jobRoom) full = true;
        else stored = max;
        dropped += values.length;
        continue;
      }
      let valuesJson: string;
      try {
        valuesJson = JSON.stringify(values);
      } catch {
        dropped += values.length; // nested too deep for the server to encode
        continue;
      }
      // The thread counts values one by one, so the array's brackets and commas are not charged.
      const valueChars = Math.max(0, valuesJson.length - values.length - 1);
      if (taskChars + valueChars > MAX_SERIES_CHARS_PER_TASK) {
        full = true; // this task's cap: its later labels go too
        dropped += values.length;
        continue;
      }
      if (stored + valuesJson.length > max) {
        stored = max; // the job's cap: nothing more of any task
        dropped += values.length;
        continue;
      }
      seen.add(label);
      taskChars += valueChars;
      storedChars += valuesJson.length;
      stored += valuesJson.length;
      kept.push({ label, valuesJson });
    }
    job.counters.noteSeries(storedChars, dropped);
    if (stored >= max && !this.told.has(job)) {
      this.told.add(job);
      this.deps.limitReached(job.record.id);
    }
    if (kept.length === 0) return undefined;
    this.pendingOutcomes++;
    return kept;
  }

  /**
   * The series of `outcomes` (their seqs in `seqs`, same order) grouped by label, as
   * `store.settle` takes them; undefined when none carries any.
   */
  lines(
    outcomes: readonly { index: number; series?: readonly TaskSeries[] }[],
    seqs: readonly { seq: number }[],
  ): SeriesLines[] | undefined {
    let byLabel: Map<string, string[]> | undefined;
    for (let i = 0; i < outcomes.length; i++) {
      const series = outcomes[i]!.series;
      if (series === undefined) continue;
      this.pendingOutcomes--;
      byLabel ??= new Map();
      const prefix = `${seqs[i]!.seq},${outcomes[i]!.index},`;
      for (const { label, valuesJson } of series) {
        let lines = byLabel.get(label);
        if (!lines) byLabel.set(label, (lines = []));
        lines.push(prefix + valuesJson);
      }
    }
    if (this.pendingOutcomes < 0) this.pendingOutcomes = 0;
    if (!byLabel) return undefined;
    return [...byLabel].map(([label, lines]) => ({ label, lines }));
  }
}

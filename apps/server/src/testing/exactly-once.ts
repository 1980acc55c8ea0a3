/**
 * The exactly-once check of a job's outcomes as one consumer saw them: every index in
 * [0, total) once, no index twice, no seq twice, and (optionally) each value right. Server,
 * fleet and e2e tests all judge delivery with it.
 */

/** An outcome as a consumer received it (the SDK's `TaskOutcome` fits). */
export interface SeenOutcome {
  index: number;
  /** The job's settlement sequence number; checked for uniqueness when present. */
  seq?: number;
  /** Missing means a result (REST result lines carry no `ok`). */
  ok?: boolean;
  value?: unknown;
  error?: { type?: string; message?: string };
}

export interface ExactlyOnceReport {
  /** Indexes in [0, total) never seen. */
  missing: number[];
  /** Indexes seen more than once (once per extra sighting). */
  duplicates: number[];
  /** Indexes whose value differs from `expected(index)`, and indexes outside [0, total). */
  wrong: number[];
  /** The failed outcomes. */
  errors: { index: number; type: string; message: string }[];
  /** Seqs seen more than once. */
  repeatedSeqs: number[];
}

/** Values are compared as JSON (what crossed the wire). */
function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Judges `outcomes` against `total` tasks and returns everything off, for tests that expect
 * some of it (a liar's wrong values, say). `expected` is skipped when absent.
 */
export function exactlyOnceReport(
  total: number,
  outcomes: Iterable<SeenOutcome>,
  expected?: (index: number) => unknown,
): ExactlyOnceReport {
  const seen = new Uint8Array(total);
  const seqs = new Set<number>();
  const report: ExactlyOnceReport = {
    missing: [],
    duplicates: [],
    wrong: [],
    errors: [],
    repeatedSeqs: [],
  };
  for (const o of outcomes) {
    if (o.seq !== undefined) {
      if (seqs.has(o.seq)) report.repeatedSeqs.push(o.seq);
      seqs.add(o.seq);
    }
    if (!Number.isInteger(o.index) || o.index < 0 || o.index >= total) {
      report.wrong.push(o.index);
      continue;
    }
    if (seen[o.index]) report.duplicates.push(o.index);
    seen[o.index] = 1;
    if (o.ok === false) {
      report.errors.push({
        index: o.index,
        type: o.error?.type ?? '?',
        message: o.error?.message ?? '',
      });
    } else if (expected && !sameValue(o.value, expected(o.index))) report.wrong.push(o.index);
  }
  for (let i = 0; i < total; i++) if (!seen[i]) report.missing.push(i);
  return report;
}

/** The first few of a list, for an error message that stays readable at 50,000 tasks. */
function some(list: readonly unknown[]): string {
  const shown = list.slice(0, 10).map((x) => JSON.stringify(x));
  return `${list.length} (${shown.join(', ')}${list.length > 10 ? ', …' : ''})`;
}

/**
 * Throws unless every index in [0, total) was seen exactly once, no seq twice, no failure
 * (unless `allowErrors`) and, with `expected`, every value right. The message lists what is off.
 *
 * @example assertExactlyOnce(1000, outcomes, { expected: (i) => i * 2 });
 */
export function assertExactlyOnce(
  total: number,
  outcomes: Iterable<SeenOutcome>,
  options: { expected?: (index: number) => unknown; allowErrors?: boolean } = {},
): ExactlyOnceReport {
  const report = exactlyOnceReport(total, outcomes, options.expected);
  const problems: string[] = [];
  if (report.missing.length) problems.push(`missing ${some(report.missing)}`);
  if (report.duplicates.length) problems.push(`duplicated ${some(report.duplicates)}`);
  if (report.wrong.length) problems.push(`wrong ${some(report.wrong)}`);
  if (report.repeatedSeqs.length) problems.push(`repeated seqs ${some(report.repeatedSeqs)}`);
  if (report.errors.length && !options.allowErrors) problems.push(`failed ${some(report.errors)}`);
  if (problems.length) {
    throw new Error(`Not exactly once over ${total} tasks: ${problems.join('; ')}.`);
  }
  return report;
}

/**
 * The text form of outcomes' provenance (`outcome_batches.provenance`, `outcome_errors.provenance`,
 * schema version 4): one line per outcome, "attempt,runMs,queuedMs,workerId", in the order of
 * the row's outcome lines; an empty number is null, an empty worker id is null, and an empty
 * line is an outcome stored without provenance. Worker ids are the server's own (UUIDs), so
 * they hold no newline; the worker id goes last so a comma in one would still read back.
 */
import type { OutcomeProvenance } from './job-store.js';
import { corruptRow } from './stored-rows.js';

/** One line (empty for none). */
export function provenanceLine(p: OutcomeProvenance | undefined): string {
  if (p === undefined) return '';
  return `${p.attempt},${p.runMs ?? ''},${p.queuedMs ?? ''},${p.workerId ?? ''}`;
}

function bad(table: string, line: string): Error {
  return corruptRow(table, `a provenance line starts ${JSON.stringify(line.slice(0, 40))}`);
}

/** A non-negative finite number from `text`, null when empty, or NaN when it is neither. */
function numberOrNull(text: string): number | null {
  if (text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : NaN;
}

/** One line read back (undefined for an empty line). */
export function parseProvenanceLine(line: string, table: string): OutcomeProvenance | undefined {
  if (line === '') return undefined;
  const a = line.indexOf(',');
  const b = a < 0 ? -1 : line.indexOf(',', a + 1);
  const c = b < 0 ? -1 : line.indexOf(',', b + 1);
  if (c < 0) throw bad(table, line);
  const attempt = Number(line.slice(0, a));
  const runMs = numberOrNull(line.slice(a + 1, b));
  const queuedMs = numberOrNull(line.slice(b + 1, c));
  if (
    !Number.isSafeInteger(attempt) ||
    attempt < 0 ||
    Number.isNaN(runMs) ||
    Number.isNaN(queuedMs)
  )
    throw bad(table, line);
  const workerId = line.slice(c + 1);
  return { workerId: workerId === '' ? null : workerId, attempt, runMs, queuedMs };
}

/** The lines of one row (null: a row stored before version 4), one per outcome line. */
export function parseProvenanceLines(
  text: string | null,
  count: number,
): (OutcomeProvenance | undefined)[] {
  const out = new Array<OutcomeProvenance | undefined>(count);
  if (text === null) return out.fill(undefined);
  const lines = text.split('\n');
  if (lines.length !== count) {
    throw corruptRow(
      'outcome_batches',
      `a row holds ${count} outcomes but ${lines.length} provenance lines`,
    );
  }
  for (let i = 0; i < count; i++) out[i] = parseProvenanceLine(lines[i]!, 'outcome_batches');
  return out;
}

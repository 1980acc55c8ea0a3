/**
 * The text form of outcomes' provenance (`outcome_batches.provenance`, `outcome_errors.provenance`,
 * schema version 4), written on every settle, so it is kept small and cheap to build: a first
 * line naming the row's workers ("w3" or "w3,w7": server connection ids, which hold no comma or
 * newline), then one line per outcome, in the order of the row's outcome lines,
 * "attempt,runUs,queuedMs,worker": the run time in integer microseconds (cheaper to write than a
 * float of milliseconds, and finer than any worker's clock), the queued time in whole
 * milliseconds (the server's clock), the worker as its position on the first line. An empty
 * field is null, and an empty line an outcome stored without provenance.
 */
import type { OutcomeProvenance, StoredOutcome } from './job-store.js';
import { corruptRow } from './stored-rows.js';

/** The provenance text of one row's outcomes; null when none of them has provenance. */
export function provenanceText(outcomes: readonly StoredOutcome[]): string | null {
  const workers: string[] = [];
  let lines = '';
  let any = false;
  for (let i = 0; i < outcomes.length; i++) {
    const p = outcomes[i]!.provenance;
    let line = '';
    if (p !== undefined) {
      any = true;
      let worker = '';
      if (p.workerId !== null) {
        // A row's outcomes come from one worker, or a few: a short scan, usually of one.
        let at = workers.indexOf(p.workerId);
        if (at < 0) at = workers.push(p.workerId) - 1;
        worker = String(at);
      }
      const runUs = p.runMs === null ? '' : Math.round(p.runMs * 1000);
      const queued = p.queuedMs === null ? '' : Math.round(p.queuedMs);
      line = `${p.attempt},${runUs},${queued},${worker}`;
    }
    lines += `\n${line}`;
  }
  return any ? workers.join(',') + lines : null;
}

function bad(table: string, line: string): Error {
  return corruptRow(table, `a provenance line starts ${JSON.stringify(line.slice(0, 40))}`);
}

/** A non-negative safe integer from `text`, null when empty, or -1 when it is neither. */
function countOrNull(text: string): number | null {
  if (text === '') return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

function parseLine(line: string, workers: string[], table: string): OutcomeProvenance | undefined {
  if (line === '') return undefined;
  const fields = line.split(',');
  if (fields.length !== 4) throw bad(table, line);
  const attempt = countOrNull(fields[0]!);
  const runUs = countOrNull(fields[1]!);
  const queuedMs = countOrNull(fields[2]!);
  const worker = countOrNull(fields[3]!);
  if (attempt === null || attempt < 0 || runUs === -1 || queuedMs === -1 || worker === -1)
    throw bad(table, line);
  const workerId = worker === null ? null : workers[worker];
  if (workerId === undefined) throw bad(table, line);
  return { workerId, attempt, runMs: runUs === null ? null : runUs / 1000, queuedMs };
}

/** The provenance of each of a row's `count` outcomes (all undefined for a row stored before version 4). */
export function parseProvenanceText(
  text: string | null,
  count: number,
  table: 'outcome_batches' | 'outcome_errors',
): (OutcomeProvenance | undefined)[] {
  const out = new Array<OutcomeProvenance | undefined>(count).fill(undefined);
  if (text === null) return out;
  const lines = text.split('\n');
  if (lines.length !== count + 1) {
    throw corruptRow(
      table,
      `a row holds ${count} outcomes but ${lines.length - 1} provenance lines`,
    );
  }
  const workers = lines[0] === '' ? [] : lines[0]!.split(',');
  for (let i = 0; i < count; i++) out[i] = parseLine(lines[i + 1]!, workers, table);
  return out;
}

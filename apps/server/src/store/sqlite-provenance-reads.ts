/**
 * The SQLite store's reads of outcomes with their provenance (schema version 4): the rows'
 * `provenance` column beside their lines, decoded line by line (./provenance-lines.ts). The
 * plain reads never select it.
 */
import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import type { StoredOutcome } from './job-store.js';
import { parseLines } from './outcome-lines.js';
import { parseProvenanceText } from './provenance-lines.js';
import type { JobStatements } from './sqlite-job-statements.js';
import {
  decodeFailureProvenanceRow,
  decodeOptionalCount,
  decodeOutcomeLinesRow,
} from './stored-rows.js';

/** SqliteJobStore.readOutcomes with each outcome's provenance (only the reads that ask for it). */
export function readWithProvenance(
  stmt: JobStatements,
  jobId: string,
  afterSeq: number,
  kind: OutcomeKind,
  limit: number,
): StoredOutcome[] {
  const out: StoredOutcome[] = [];
  if (kind === 'errors') {
    for (const row of stmt.errorsWithProvenance.iterate(jobId, afterSeq, limit)) {
      const { seq, index, payload, provenance } = decodeFailureProvenanceRow(row);
      const [p] = parseProvenanceText(provenance, 1, 'outcome_errors');
      out.push(
        p === undefined
          ? { seq, index, ok: false, payload }
          : { seq, index, ok: false, payload, provenance: p },
      );
    }
    return out;
  }
  const start =
    decodeOptionalCount(stmt.outcomeStart.get(jobId, afterSeq + 1), 'outcome_batches') ?? 0;
  for (const row of stmt.outcomesWithProvenanceFrom.iterate(jobId, start)) {
    const { lines, provenance, payloadBytes } = decodeOutcomeLinesRow(row);
    const batch = parseLines(lines, payloadBytes);
    const provenances = parseProvenanceText(provenance, batch.length, 'outcome_batches');
    for (let i = 0; i < batch.length && out.length < limit; i++) {
      const o = batch[i]!;
      if (o.seq <= afterSeq || (kind === 'results' && !o.ok)) continue;
      const p = provenances[i];
      out.push(p === undefined ? o : { ...o, provenance: p });
    }
    if (out.length >= limit) break;
  }
  return out;
}

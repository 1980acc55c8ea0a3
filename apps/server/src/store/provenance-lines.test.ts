import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@tabgrid/protocol/errors';
import type { StoredOutcome } from './job-store.js';
import { parseProvenanceText, provenanceText } from './provenance-lines.js';

const outcome = (seq: number, provenance?: StoredOutcome['provenance']): StoredOutcome =>
  provenance === undefined
    ? { seq, index: seq, ok: true, payload: '1' }
    : { seq, index: seq, ok: true, payload: '1', provenance };

describe('provenance text', () => {
  it('names each worker once per row and reads every field back', () => {
    const rows = [
      outcome(1, { workerId: 'w3', attempt: 1, runMs: 12.345, queuedMs: 250 }),
      outcome(2, { workerId: 'w7', attempt: 2, runMs: 0.001, queuedMs: 0 }),
      outcome(3, { workerId: 'w3', attempt: 1, runMs: 3, queuedMs: 9 }),
      outcome(4, { workerId: null, attempt: 0, runMs: null, queuedMs: null }),
      outcome(5),
    ];
    const text = provenanceText(rows)!;
    expect(text).toBe('w3,w7\n1,12345,250,0\n2,1,0,1\n1,3000,9,0\n0,,,\n');
    expect(parseProvenanceText(text, 5, 'outcome_batches')).toEqual([
      ...rows.slice(0, 4).map((o) => o.provenance),
      undefined,
    ]);
    expect(provenanceText([outcome(1)])).toBeNull();
    expect(parseProvenanceText(null, 2, 'outcome_batches')).toEqual([undefined, undefined]);
  });

  it('keeps run times to the microsecond and queued times to the millisecond', () => {
    const text = provenanceText([
      outcome(1, { workerId: 'w1', attempt: 1, runMs: 0.30000000000000004, queuedMs: 10.4 }),
    ])!;
    expect(parseProvenanceText(text, 1, 'outcome_errors')[0]).toEqual({
      workerId: 'w1',
      attempt: 1,
      runMs: 0.3,
      queuedMs: 10,
    });
  });

  it('refuses a damaged row, saying which table', () => {
    for (const [text, count] of [
      ['w1\n1,2,3', 1], // too few fields
      ['w1\n1,2,3,1', 1], // no worker 1
      ['w1\n-1,2,3,0', 1],
      ['w1\n1,2.5,3,0', 1],
      ['w1\n1,2,3,0', 2], // a line short
    ] as const) {
      expect(() => parseProvenanceText(text, count, 'outcome_batches')).toThrow(
        expect.objectContaining({
          code: ErrorCode.INTERNAL,
          message: expect.stringMatching(/outcome_batches/),
        }),
      );
    }
  });
});

import { describe, expect, it } from 'vitest';
import {
  REPORT_BYTES_BURST,
  REPORT_BYTES_PER_SECOND,
  ReportBudget,
  looksLikeReport,
} from './report-budget.js';

describe('looksLikeReport', () => {
  it('knows a report frame by its first bytes, in a text frame or a binary header', () => {
    expect(looksLikeReport(Buffer.from('{"type":"report","items":[]}'), false)).toBe(true);
    expect(looksLikeReport(Buffer.from('{"type":"outcomes","items":[]}'), false)).toBe(false);
    expect(looksLikeReport(Buffer.from('{"items":[],"type":"report"}'), false)).toBe(false);
    expect(looksLikeReport(Buffer.from('{"type"'), false)).toBe(false);
    const header = Buffer.from('{"type":"report","items":[]}');
    const binary = Buffer.concat([Buffer.alloc(4), header]);
    binary.writeUInt32LE(header.length, 0);
    expect(looksLikeReport(binary, true)).toBe(true);
    expect(looksLikeReport(binary, false)).toBe(false);
  });
});

describe('ReportBudget', () => {
  it('lets a burst through, then the rate, and refuses what is over', () => {
    const budget = new ReportBudget(0);
    expect(budget.take(REPORT_BYTES_BURST, 0)).toBe(true);
    expect(budget.take(1, 0)).toBe(false);
    // Half a second later, half a second's worth fits, not more.
    expect(budget.take(REPORT_BYTES_PER_SECOND / 2 + 1, 500)).toBe(false);
    expect(budget.take(REPORT_BYTES_PER_SECOND / 2, 500)).toBe(true);
    // A long quiet spell refills to the burst, never beyond.
    expect(budget.take(REPORT_BYTES_BURST + 1, 60_000)).toBe(false);
    expect(budget.take(REPORT_BYTES_BURST, 60_000)).toBe(true);
  });
});

/**
 * How many bytes of `report` frames (progress, console lines, events) one worker connection may
 * have the server read, checked *before* a frame is parsed: parsing and validating a report
 * costs the server in proportion to its bytes, and a hostile page can send them as fast as its
 * link allows (a million console lines are ~100 MB of JSON). A report frame beyond the budget
 * is dropped unread; {@link TaskReports.unread} tells the connection's jobs so in a log line.
 * Outcomes and every other frame are never held back by it.
 *
 * A report frame is recognised from its first bytes, `{"type":"report"` (how the page and the
 * fleet write it, in a text frame or a binary frame's JSON header); a frame that decodes as a
 * report without them is refused as a protocol error, so the peek cannot be dodged.
 */
import type { RawData } from 'ws';

/** Report bytes per second one connection may have read (on average). */
export const REPORT_BYTES_PER_SECOND = 4 * 1024 * 1024;
/**
 * … and in one burst: 4 MB, twice the largest report an honest page makes of one task (1,000
 * lines of 2,000 characters at most), or sixteen frames at the 256 KB report frame cap.
 */
export const REPORT_BYTES_BURST = 4 * 1024 * 1024;

const PREFIX = Buffer.from('{"type":"report"');
/** A binary frame's JSON header starts after its uint32 length (binary-frame.ts). */
const BINARY_HEADER_AT = 4;

/** Whether a frame's JSON begins as a report frame's does (reads 16 bytes at most). */
export function looksLikeReport(data: RawData, isBinary: boolean): boolean {
  // A view, never a copy: the socket hands text and binary frames over as one Buffer.
  const buffer = Array.isArray(data)
    ? data[0]
    : data instanceof ArrayBuffer
      ? Buffer.from(data)
      : data;
  if (buffer === undefined) return false;
  const at = isBinary ? BINARY_HEADER_AT : 0;
  if (buffer.length < at + PREFIX.length) return false;
  return buffer.compare(PREFIX, 0, PREFIX.length, at, at + PREFIX.length) === 0;
}

/** One connection's token bucket of report bytes. */
export class ReportBudget {
  private tokens: number;
  private at: number;

  constructor(
    now: number,
    private readonly rate = REPORT_BYTES_PER_SECOND,
    private readonly burst = REPORT_BYTES_BURST,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Whether a report frame of `bytes` may be read now (then it is charged). */
  take(bytes: number, now: number): boolean {
    const elapsed = Math.max(0, now - this.at);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
    this.at = now;
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }
}

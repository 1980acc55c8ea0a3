/**
 * A connection's outgoing `report` frames (progress, console lines, events, Setup timings), as
 * the page's ReportBuffer sends them: progress coalesced per task (the last value wins), entries
 * split at the protocol's per-item bounds, frames written by `reportFrames` (at most 4,096
 * entries and 256 KB each), sent every 250 ms while something waits, and always right before an
 * outcomes frame (so a task's report precedes its outcome on the socket).
 */
import {
  REPORT_LIMITS,
  TASK_LIMITS,
  reportFrames,
  type TaskReport,
} from '@tabgrid/protocol/task-reports';

export class ReportOutbox {
  private items: TaskReport[] = [];
  /** Progress-only entries by task, so a later value replaces an earlier one. */
  private progressOnly = new Map<string, TaskReport>();
  private timer: NodeJS.Timeout | undefined;
  /** Rewrites every entry before it is sent (hostile tests: a forged index). */
  transform: ((item: TaskReport) => TaskReport) | undefined;
  /** Entries sent, for tests and stats. */
  sent = 0;

  /**
   * @param send sends one frame
   * @param held true while nothing may be sent (the connection is closed, or the worker frozen)
   * @param coalesce false: every progress entry is sent as is (a hostile page's spam)
   */
  constructor(
    private readonly send: (frame: string) => void,
    private readonly held: () => boolean,
    private readonly coalesce: () => boolean = () => true,
  ) {}

  get pending(): number {
    return this.items.length;
  }

  push(item: TaskReport): void {
    if (isProgressOnly(item) && item.index !== null && this.coalesce()) {
      const key = `${item.jobId}\u0000${item.index}`;
      const earlier = this.progressOnly.get(key);
      if (earlier) {
        earlier.progress = item.progress;
        return;
      }
      this.progressOnly.set(key, item);
      this.items.push(item);
    } else {
      // A later non-progress entry of the task must not be overtaken by a coalesced one.
      if (item.index !== null) this.progressOnly.delete(`${item.jobId}\u0000${item.index}`);
      for (const part of split(item)) this.items.push(part);
    }
    if (this.items.length >= REPORT_LIMITS.maxReportItems) this.flush();
    else this.flushSoon();
  }

  private flushSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, TASK_LIMITS.reportFlushMs);
    this.timer.unref();
  }

  /** Sends everything waiting, in frames within the protocol's bounds. */
  flush(): void {
    if (this.items.length === 0 || this.held()) return;
    const items = this.items;
    this.items = [];
    this.progressOnly.clear();
    const transform = this.transform;
    const out = transform ? items.map((item) => transform(item)) : items;
    for (const frame of reportFrames(out)) this.send(frame);
    this.sent += out.length;
  }

  /** The connection is gone: nothing waiting is sent. */
  clear(): void {
    this.items = [];
    this.progressOnly.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function isProgressOnly(item: TaskReport): boolean {
  return (
    item.progress !== undefined &&
    item.logs === undefined &&
    item.events === undefined &&
    item.dropped === undefined &&
    item.setup === undefined &&
    item.started === undefined
  );
}

/** The entry in parts of at most maxLogsPerItem lines and maxEventsPerItem events. */
function split(item: TaskReport): TaskReport[] {
  const logs = item.logs ?? [];
  const events = item.events ?? [];
  if (
    logs.length <= REPORT_LIMITS.maxLogsPerItem &&
    events.length <= REPORT_LIMITS.maxEventsPerItem
  ) {
    return [item];
  }
  const parts: TaskReport[] = [];
  for (let l = 0, e = 0; l < logs.length || e < events.length;) {
    // The first part keeps the entry's other fields (progress, dropped, setup, started).
    const part: TaskReport =
      parts.length === 0 ? { ...item } : { jobId: item.jobId, index: item.index };
    delete part.logs;
    delete part.events;
    if (l < logs.length) part.logs = logs.slice(l, (l += REPORT_LIMITS.maxLogsPerItem));
    if (e < events.length) part.events = events.slice(e, (e += REPORT_LIMITS.maxEventsPerItem));
    parts.push(part);
  }
  return parts;
}

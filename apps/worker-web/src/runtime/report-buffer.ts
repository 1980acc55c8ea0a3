import { TASK_LIMITS, reportFrames } from '@tabgrid/protocol/task-reports';
import { WORKER_LIMITS } from '@tabgrid/protocol/worker';
import { checkThreadReport, type ThreadReport } from './thread-report';

/** Reports wait at most this long for company before going to the server... */
export const REPORT_FLUSH_MS = TASK_LIMITS.reportFlushMs;
/** ...or go at once when this much report text is waiting. */
export const REPORT_FLUSH_CHARS = 1024 * 1024;
/** Most report text kept waiting; beyond, lines and events are dropped and counted. */
export const REPORT_MAX_PENDING_CHARS = 8 * 1024 * 1024;

type Log = NonNullable<ThreadReport['logs']>[number];
type Event = NonNullable<ThreadReport['events']>[number];

/** What one task (or the job: index null) did since the last flush, coalesced. */
interface Entry {
  index: number | null;
  /** Last progress wins; undefined: none since the last flush; null: "alive". */
  progress: number | null | undefined;
  started: boolean;
  logs: Log[];
  events: Event[];
  droppedLogs: number;
  droppedEvents: number;
  setups: { ms: number; ok: boolean }[];
}

/** One item of a `report` frame (protocol TaskReport). */
export type ReportItem = ThreadReport & { jobId: string };

const NULL_KEY = -1;

function clampCount(n: number): number {
  return Math.min(n, WORKER_LIMITS.maxCount);
}

/**
 * What job code logged, emitted and reported as progress (thread `tel` texts), on its way to
 * the server as `report` frames: coalesced per task (last progress wins, lines and events in
 * order), flushed every {@link REPORT_FLUSH_MS} or at {@link REPORT_FLUSH_CHARS}, split to the
 * protocol's bounds by `reportFrames` (lines and events per item, items and bytes per frame).
 * Thread output is untrusted: each text is checked with the protocol's schema first, and
 * dropped whole when it fails.
 *
 * Ordering: the OutcomeBuffer's send calls {@link flush} first, so a task's report always
 * precedes its outcome on the socket. A page whose jobs report nothing pays one size check.
 */
export class ReportBuffer {
  private readonly jobs = new Map<string, Map<number, Entry>>();
  private chars = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Thread texts dropped because they did not match the protocol (a subverted thread). */
  malformed = 0;

  constructor(private readonly send: (frame: string) => void) {}

  /** Nothing waits: the plain path's only cost. */
  get empty(): boolean {
    return this.jobs.size === 0;
  }

  /**
   * Report text of a thread of `jobId`: TaskReports without jobId, joined by commas.
   * `jobOnly`: the job's own items only (index null), for a thread that left the job: what it
   * says of tasks is void (they were handed back or cancelled).
   */
  add(jobId: string, tel: string, jobOnly = false): void {
    let items: ThreadReport[];
    try {
      items = checkThreadReport(JSON.parse(`[${tel}]`));
    } catch (error) {
      this.malformed++;
      console.warn('[tabgrid] dropped a malformed report from a job thread:', error);
      return;
    }
    const room = this.chars + tel.length <= REPORT_MAX_PENDING_CHARS;
    if (room) this.chars += tel.length;
    for (const item of items) {
      if (jobOnly && item.index !== null) continue;
      this.merge(this.entry(jobId, item.index), item, room);
    }
    if (this.chars >= REPORT_FLUSH_CHARS) this.flush();
    else this.schedule();
  }

  /** A task of a job with progressTimeoutMs began running (its progress clock starts). */
  started(jobId: string, index: number): void {
    this.entry(jobId, index).started = true;
    this.schedule();
  }

  /** Sends what waits now, as one frame or several. */
  flush(): void {
    if (this.jobs.size === 0) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const items: ReportItem[] = [];
    for (const [jobId, entries] of this.jobs) {
      for (const entry of entries.values()) items.push(...itemsOf(jobId, entry));
    }
    this.jobs.clear();
    this.chars = 0;
    for (const frame of reportFrames(items)) this.send(frame);
  }

  /** The job left this tab: what waits about its tasks is void (its own lines stay). */
  forgetTasks(jobId: string): void {
    const entries = this.jobs.get(jobId);
    if (!entries) return;
    for (const key of entries.keys()) if (key !== NULL_KEY) entries.delete(key);
    if (entries.size === 0) this.jobs.delete(jobId);
  }

  /** The connection is gone: what waited goes with it. */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.jobs.clear();
    this.chars = 0;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, REPORT_FLUSH_MS);
  }

  private entry(jobId: string, index: number | null): Entry {
    let entries = this.jobs.get(jobId);
    if (!entries) {
      entries = new Map();
      this.jobs.set(jobId, entries);
    }
    const key = index ?? NULL_KEY;
    let entry = entries.get(key);
    if (!entry) {
      entry = {
        index,
        progress: undefined,
        started: false,
        logs: [],
        events: [],
        droppedLogs: 0,
        droppedEvents: 0,
        setups: [],
      };
      entries.set(key, entry);
    }
    return entry;
  }

  private merge(entry: Entry, item: ThreadReport, room: boolean): void {
    if (item.progress !== undefined) entry.progress = item.progress;
    if (item.setup) entry.setups.push(item.setup);
    if (item.logs) {
      if (room) for (const line of item.logs) entry.logs.push(line);
      else for (const line of item.logs) entry.droppedLogs += line.count;
    }
    if (item.events) {
      if (room) for (const event of item.events) entry.events.push(event);
      else entry.droppedEvents += item.events.length;
    }
    if (item.dropped?.logs) entry.droppedLogs += item.dropped.logs;
    if (item.dropped?.events) entry.droppedEvents += item.dropped.events;
  }
}

/** An entry as protocol items: lines and events split to their per-item bounds. */
function itemsOf(jobId: string, entry: Entry): ReportItem[] {
  const first: ReportItem = { jobId, index: entry.index };
  if (entry.progress !== undefined) first.progress = entry.progress;
  if (entry.started) first.started = true;
  if (entry.droppedLogs > 0 || entry.droppedEvents > 0) {
    first.dropped = {};
    if (entry.droppedLogs > 0) first.dropped.logs = clampCount(entry.droppedLogs);
    if (entry.droppedEvents > 0) first.dropped.events = clampCount(entry.droppedEvents);
  }
  const items = [first];
  const maxLogs = WORKER_LIMITS.maxLogsPerItem;
  const maxEvents = WORKER_LIMITS.maxEventsPerItem;
  const parts = Math.max(
    1,
    entry.setups.length,
    Math.ceil(entry.logs.length / maxLogs),
    Math.ceil(entry.events.length / maxEvents),
  );
  for (let i = 0; i < parts; i++) {
    const item = i === 0 ? first : { jobId, index: entry.index };
    const setup = entry.setups[i];
    if (setup) item.setup = setup;
    const logs = entry.logs.slice(i * maxLogs, (i + 1) * maxLogs);
    if (logs.length > 0) item.logs = logs;
    const events = entry.events.slice(i * maxEvents, (i + 1) * maxEvents);
    if (events.length > 0) item.events = events;
    if (i > 0) items.push(item);
  }
  return items;
}

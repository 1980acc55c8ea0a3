/**
 * What a local job thread reports, decoded by the protocol before use, as the worker page and
 * the server decode it: outcomes as protocol `WorkerOutcome`s, report texts as `TaskReport`s.
 * A local run is the caller's own code, but a broken value must still fail loudly, not be cast.
 */
import { createDecoder } from '@tabgrid/protocol/codec';
import { checkDepth } from '@tabgrid/protocol/limits';
import { TaskReport, type TaskReport as Report } from '@tabgrid/protocol/task-reports';
import { WORKER_LIMITS, decodeWorkerToServer, type WorkerOutcome } from '@tabgrid/protocol/worker';

export type ThreadReport = Report;

const decodeItem = createDecoder(TaskReport, 'thread report', {
  maxDepth: WORKER_LIMITS.maxDataDepth + 4,
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The outcomes of a `results` message (WorkerOutcome JSON texts joined by commas) of `jobId`. */
export function decodeOutcomes(jobId: string, outcomes: string, count: number): WorkerOutcome[] {
  const frame = decodeWorkerToServer(`{"type":"outcomes","credit":0,"items":[${outcomes}]}`);
  if (frame.type !== 'outcomes' || frame.items.length !== count) {
    throw new Error(`a results message says ${count} outcomes and holds another number`);
  }
  for (const item of frame.items) {
    if (item.jobId !== jobId) throw new Error(`an outcome of job ${item.jobId}, not ${jobId}`);
  }
  return frame.items;
}

/** `list` checked as items' `key`, a frame item's worth at a time (a task may log 1,000 lines). */
function checkSlices(list: unknown, key: 'logs' | 'events', size: number, jobId: string): void {
  if (!Array.isArray(list)) throw new Error(`${key} is a list`);
  for (let i = 0; i < list.length; i += size) {
    decodeItem({ jobId, index: null, [key]: list.slice(i, i + size) });
  }
}

/** The items of a report text (TaskReports without jobId, joined by commas), with `jobId`. */
export function decodeReports(jobId: string, tel: string): ThreadReport[] {
  if (tel === '') return [];
  const parsed: unknown = JSON.parse(`[${tel}]`);
  if (!Array.isArray(parsed)) throw new Error('a report text is a list of items');
  const items: ThreadReport[] = [];
  for (const raw of parsed as unknown[]) {
    if (!isRecord(raw) || 'jobId' in raw) throw new Error('a report item is an object, no jobId');
    const { logs, events, ...rest } = raw;
    const item = decodeItem({ ...rest, jobId });
    if (logs !== undefined) {
      checkSlices(logs, 'logs', WORKER_LIMITS.maxLogsPerItem, jobId);
      item.logs = logs as NonNullable<ThreadReport['logs']>;
    }
    if (events !== undefined) {
      checkSlices(events, 'events', WORKER_LIMITS.maxEventsPerItem, jobId);
      item.events = events as NonNullable<ThreadReport['events']>;
      for (const event of item.events) {
        checkDepth(event.data, WORKER_LIMITS.maxDataDepth, { what: 'event data' });
      }
    }
    items.push(item);
  }
  return items;
}

/**
 * A thread's report texts, checked before the page forwards a byte of them: job code shares
 * the thread's realm and may have subverted its runtime, and the server closes the socket on a
 * frame that breaks the protocol (losing every other task's report and outcome with it).
 */
import type { Static } from '@sinclair/typebox';
import { createDecoder } from '@tabgrid/protocol/codec';
import { checkDepth } from '@tabgrid/protocol/limits';
import { TaskReport } from '@tabgrid/protocol/task-reports';
import { WORKER_LIMITS } from '@tabgrid/protocol/worker';

/** One protocol TaskReport without its jobId (the page adds it), as threads send them. */
export type ThreadReport = Omit<Static<typeof TaskReport>, 'jobId'>;

const decodeItem = createDecoder(TaskReport, 'thread report', {
  maxDepth: WORKER_LIMITS.maxDataDepth + 4,
});

/** A placeholder jobId that passes the schema: the real one is the page's to set. */
const CHECK_JOB_ID = 'thread-report';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The items of a parsed report text, each within the protocol's bounds (a thread may send
 * more lines or events per item than a frame item holds: those are checked in slices, the
 * ReportBuffer splits them the same way). Throws on anything else.
 */
export function checkThreadReport(parsed: unknown): ThreadReport[] {
  if (!Array.isArray(parsed)) throw new Error('a report text is a list of items');
  const items: ThreadReport[] = [];
  for (const raw of parsed as unknown[]) {
    if (!isRecord(raw) || 'jobId' in raw) throw new Error('a report item is an object, no jobId');
    const { logs, events, ...rest } = raw;
    decodeItem({ ...rest, jobId: CHECK_JOB_ID });
    const item = rest as ThreadReport;
    if (logs !== undefined) item.logs = checkSlices(logs, 'logs', WORKER_LIMITS.maxLogsPerItem);
    if (events !== undefined) {
      const checked = checkSlices(events, 'events', WORKER_LIMITS.maxEventsPerItem);
      for (const event of checked) {
        checkDepth(event.data, WORKER_LIMITS.maxDataDepth, { what: 'event data' });
        const json = JSON.stringify(event.data ?? null);
        if (json.length > WORKER_LIMITS.maxEventDataBytes) {
          throw new Error(`an event's data is over ${WORKER_LIMITS.maxEventDataBytes} bytes`);
        }
      }
      item.events = checked;
    }
    items.push(item);
  }
  return items;
}

type Slices<K extends 'logs' | 'events'> = NonNullable<ThreadReport[K]>;

/** `list` checked as items' `key`, `size` at a time. */
function checkSlices<K extends 'logs' | 'events'>(list: unknown, key: K, size: number): Slices<K> {
  if (!Array.isArray(list)) throw new Error(`${key} is a list`);
  for (let i = 0; i < list.length; i += size) {
    decodeItem({ jobId: CHECK_JOB_ID, index: null, [key]: list.slice(i, i + size) });
  }
  return list as Slices<K>;
}

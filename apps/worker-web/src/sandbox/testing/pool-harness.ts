/** The thread pool's test harness: a host whose threads are ports the test reads and answers. */
import { expect } from 'vitest';
import type { PageToThread, ThreadTask, ThreadToPage } from '@tabgrid/job-runtime/sandbox-protocol';
import type { Chunk, LocalJob } from '../chunk';
import type { ThreadHost } from '../thread-host';
import { ThreadPool } from '../thread-pool';

/** A thread as the pool sees it: a port we can read from and answer on, synchronously. */
export interface FakeThread {
  workerId: number;
  sent: PageToThread[];
  closed: boolean;
  reply(message: ThreadToPage): void;
}

export class FakeHost implements ThreadHost {
  readonly threads: FakeThread[] = [];
  readonly terminated: number[] = [];
  spawn(): { workerId: number; port: MessagePort } {
    const workerId = this.threads.length + 1;
    const thread: FakeThread = { workerId, sent: [], closed: false, reply: () => undefined };
    const port = {
      onmessage: null as ((event: { data: unknown }) => void) | null,
      postMessage: (message: PageToThread) => thread.sent.push(message),
      close: () => (thread.closed = true),
    };
    thread.reply = (message) => port.onmessage?.({ data: message });
    this.threads.push(thread);
    return { workerId, port: port as unknown as MessagePort };
  }
  terminate(workerId: number): void {
    this.terminated.push(workerId);
  }
  dispose(): void {}
}

export const job: LocalJob = {
  key: 1,
  jobId: 'j',
  program: 'function Run(d){return d}',
  args: null,
  timeoutMs: 1000,
  setupTimeoutMs: 1000,
  messages: [],
  seriesFull: '',
  webgpu: false,
};
export const tasks = (...indices: number[]): ThreadTask[] =>
  indices.map((index) => ({ index, input: index }));
export const outcome = (index: number) =>
  JSON.stringify({ jobId: 'j', index, ms: 0, ok: true, value: index });

/** A thread's `results` message reporting the outcomes of `indexes` of chunk `chunkId`. */
export function results(
  chunkId: number,
  indexes: number[],
  { ms = 0, done = false, tel = '' }: { ms?: number; done?: boolean; tel?: string } = {},
): ThreadToPage {
  const outcomes = indexes.map(outcome).join(',');
  return { type: 'results', chunkId, outcomes, count: indexes.length, failures: 0, ms, done, tel };
}

export function setup(chunks: Chunk[], size = 1) {
  const host = new FakeHost();
  const outcomes: string[] = [];
  const requeued: { tasks: ThreadTask[]; suspect: boolean }[] = [];
  const faults: { job: string; reason: string }[] = [];
  const reports: { job: string; tel: string; jobOnly?: boolean }[] = [];
  const started: number[] = [];
  /** The attachments that came with outcomes (issue 18), per results message. */
  const attached: ArrayBuffer[][] = [];
  /** What reached the events, in order: 'report' and 'outcomes'. */
  const order: string[] = [];
  const pool = new ThreadPool(
    size,
    {
      takeChunk: () => chunks.shift(),
      queued: () => chunks.reduce((sum, chunk) => sum + chunk.tasks.length, 0),
      onOutcomes: (_job, items, count, _failures, _ms, bytes) => {
        order.push('outcomes');
        if (bytes) attached.push(bytes);
        const parsed = JSON.parse(`[${items}]`) as unknown[];
        expect(parsed).toHaveLength(count);
        outcomes.push(...parsed.map((item) => JSON.stringify(item)));
      },
      onRequeue: (_job, items, suspect) => requeued.push({ tasks: items, suspect }),
      onFault: (faulty, reason) => faults.push({ job: faulty.jobId, reason }),
      onReport: (of, tel, jobOnly) => {
        order.push('report');
        reports.push(jobOnly ? { job: of.jobId, tel, jobOnly } : { job: of.jobId, tel });
      },
      onStarted: (_job, index) => started.push(index),
    },
    host,
  );
  const run = (thread: FakeThread) => thread.sent.find((m) => m.type === 'run');
  return { host, pool, outcomes, requeued, faults, reports, started, order, run, attached };
}

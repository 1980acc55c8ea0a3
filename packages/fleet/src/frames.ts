/**
 * The frames a simulated worker sends, built from the protocol's types. Outcome items are
 * serialised one by one as they finish (so one unserialisable value fails its own task, not the
 * batch), and a frame is one string concatenation of them.
 */
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import type { WorkerToServer } from '@tabgrid/protocol/worker';
import { WORKER_LIMITS } from '@tabgrid/protocol/worker';
import type { ReportLies } from './behavior.js';
import type { BusySince } from './executor-types.js';

type Frame<T extends WorkerToServer['type']> = Extract<WorkerToServer, { type: T }>;

export function helloFrame(threads: number, credit: number, userAgent: string): string {
  const hello: Frame<'hello'> = {
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    threads,
    userAgent,
    credit,
  };
  return JSON.stringify(hello);
}

export function creditFrame(slots: number): string {
  const credit: Frame<'credit'> = { type: 'credit', slots };
  return JSON.stringify(credit);
}

export function releaseFrame(tasks: Frame<'release'>['tasks']): string {
  const release: Frame<'release'> = { type: 'release', tasks };
  return JSON.stringify(release);
}

/**
 * An `outcomes` frame granting `credit` slots, from items that are each the JSON text of a
 * `WorkerOutcome`. Same text as `JSON.stringify({ type: 'outcomes', credit, items })`.
 */
export function outcomesFrame(credit: number, items: readonly string[]): string {
  return `{"type":"outcomes","credit":${credit},"items":[${items.join(',')}]}`;
}

/**
 * A monitor `sample`: busy time spread over the threads (the sim does not pin tasks to
 * threads), each thread's share at most the interval. `lies.sampleLies` claims 4 more threads.
 */
export function sampleFrame(
  threads: number,
  intervalMs: number,
  busy: BusySince,
  lies: ReportLies | undefined,
): string {
  const claimed = Math.min(WORKER_LIMITS.maxThreads, threads + (lies?.sampleLies ? 4 : 0));
  const perThread = Math.min(intervalMs, busy.busyMs / threads);
  const jobs: Frame<'sample'>['jobs'] = [];
  for (const [jobId, busyMs] of busy.jobs) {
    if (jobs.length >= WORKER_LIMITS.maxSampleJobs) break;
    jobs.push({ jobId, busyMs: Math.min(1.6e8, busyMs) });
  }
  const sample: Frame<'sample'> = {
    type: 'sample',
    busyMs: Array.from({ length: claimed }, () => round(perThread)),
    intervalMs: round(intervalMs),
    tasks: Math.min(1e9, busy.tasks),
    heapUsed: null,
    jobs,
  };
  return JSON.stringify(sample);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

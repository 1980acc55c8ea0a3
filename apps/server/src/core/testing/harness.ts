import type { WorkerCapabilities } from '@tabgrid/protocol/jobs';
/**
 * The scheduler under test, on a store made by {@link openStore}, with worker links that record
 * the frames they are sent: the scheduler never knows the difference. One harness for every
 * core test file (`useHarness()` in a describe or at the top level).
 */
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import {
  decodeServerToWorker,
  type ServerToWorker,
  type WorkerOutcome,
} from '@tabgrid/protocol/worker';
import type { TaskReport } from '@tabgrid/protocol/task-reports';
import type { JobStore } from '../../store/job-store.js';
import type { FeedItem, FeedSink } from '../feed-streams.js';
import { MemoryJobData, MemoryJobStore } from '../../store/memory-job-store.js';
import type { Caller } from '../../auth/caller.js';
import { Scheduler } from '../scheduler.js';
import type { SchedulerOptions } from '../scheduling-options.js';
import type { WorkerSession } from '../worker-registry.js';

export const admin: Caller = { name: 'admin', owner: 'admin', role: 'admin', seesAll: true };

/**
 * The store every core test runs on, the one place that names it: in memory (no disk), with the
 * same semantics as SQLite (both pass store/job-store.conformance.ts). A store opened on the
 * same `data` sees everything the previous one committed: a restart.
 */
export async function openStore(data: MemoryJobData, previous?: JobStore): Promise<JobStore> {
  await previous?.close();
  return new MemoryJobStore(data);
}

export interface Harness {
  /** What the store has committed; it outlives a restart. */
  data: MemoryJobData;
  store: JobStore;
  scheduler: Scheduler;
}

/** The harness's state, replaced before each test. */
export const env = {} as Harness;

/** Opens a fresh scheduler before each test (with `options`), closes it after. */
export function useHarness(options: Omit<SchedulerOptions, 'store'> = {}): Harness {
  beforeEach(async () => {
    env.data = new MemoryJobData();
    env.store = await openStore(env.data);
    env.scheduler = await Scheduler.open({ store: env.store, ...options });
  });
  afterEach(async () => {
    vi.useRealTimers();
    env.scheduler.close();
    await env.store.close();
  });
  return env;
}

/** Restarts the scheduler and its store (what was durable stays), with `options`. */
export async function restart(options: Omit<SchedulerOptions, 'store'> = {}): Promise<Scheduler> {
  env.scheduler.close();
  env.store = await openStore(env.data, env.store);
  env.scheduler = await Scheduler.open({ store: env.store, ...options });
  return env.scheduler;
}

/** Reopens the scheduler on the same store (a restart), with `options`. */
export async function reopen(options: Omit<SchedulerOptions, 'store'> = {}): Promise<Scheduler> {
  env.scheduler.close();
  env.scheduler = await Scheduler.open({ store: env.store, ...options });
  return env.scheduler;
}

export interface TestWorker {
  session: WorkerSession;
  frames: ServerToWorker[];
  link: { send(f: string): void; close: ReturnType<typeof vi.fn>; isOpen(): boolean };
  /** Every task it was sent, in order. */
  tasks(): { jobId: string; index: number; input: unknown }[];
}

/** A worker link that records frames, welcomed with `credit`. */
export function connect(
  credit: number,
  {
    address,
    threads = 1,
    capabilities,
  }: { address?: string; threads?: number; capabilities?: WorkerCapabilities } = {},
): TestWorker {
  const frames: ServerToWorker[] = [];
  let open = true;
  const link = {
    send: (f: string) => frames.push(decodeServerToWorker(f)),
    close: vi.fn(() => (open = false)),
    isOpen: () => open,
    ...(address ? { address } : {}),
  };
  const session = env.scheduler.dispatcher.connect(link);
  env.scheduler.dispatcher.handle(session, {
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    threads,
    userAgent: 't',
    credit,
    ...(capabilities ? { capabilities } : {}),
  });
  const tasks = () =>
    frames.flatMap((f) =>
      f.type === 'tasks' ? f.items.map((i) => ({ jobId: f.jobId, ...i })) : [],
    );
  return { session, frames, link, tasks };
}

export function answer(session: WorkerSession, items: WorkerOutcome[]): void {
  env.scheduler.dispatcher.handle(session, { type: 'outcomes', credit: items.length, items });
}

export const ok = (t: { jobId: string; index: number; input: unknown }): WorkerOutcome => ({
  jobId: t.jobId,
  index: t.index,
  ms: 0,
  ok: true,
  value: t.input,
});

/** Lets setImmediate-scheduled dispatch and group commits run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/**
 * A scheduler whose safety-net interval and clock are fake (advance them with
 * `vi.advanceTimersByTime`), and a job on it with a 1 s timeout plus `options`.
 */
export async function withFakeClock(options: { redundancy?: number }) {
  vi.useFakeTimers({ toFake: ['setInterval', 'Date'] });
  await reopen();
  return env.scheduler.createJob(admin, {
    program: 'function Run(d){return d}',
    timeoutMs: 1000,
    ...options,
  });
}

/**
 * Runs the first tasks of each job on a worker of its own, so the jobs are timed and the
 * dispatcher stops holding their tasks back (holdLimit) for the worker under test.
 */
export async function timeFirstTasks(...jobIds: string[]): Promise<void> {
  const timed = () => jobIds.every((id) => env.scheduler.job(admin, id).info().finished > 0);
  for (let round = 0; round < 10 && !timed(); round++) {
    const w = connect(2 * jobIds.length); // 2 of each untimed job (holdLimit)
    await settle();
    answer(w.session, w.tasks().map(ok));
    await settle();
    // Leaves like a closing tab: what it was sent meanwhile goes back unrun, not as suspects.
    const held = w.tasks().slice(2 * jobIds.length);
    env.scheduler.dispatcher.handle(w.session, { type: 'release', tasks: held });
    env.scheduler.dispatcher.disconnect(w.session);
    await settle();
  }
  expect(timed()).toBe(true);
}

/** A `report` frame from `session` (issue 13: progress, console lines, events, Setup times). */
export function report(session: WorkerSession, items: TaskReport[]): void {
  env.scheduler.dispatcher.handle(session, { type: 'report', items });
}

/** A feed consumer that records what it is pushed (acking at once) and how it ended. */
export class RecordingFeedSink implements FeedSink {
  readonly items: FeedItem[] = [];
  ended: { reason: string; message?: string } | undefined;

  push(items: FeedItem[], ready: () => void): void {
    this.items.push(...items);
    ready();
  }

  end(reason: string, message?: string): void {
    this.ended = message === undefined ? { reason } : { reason, message };
  }
}

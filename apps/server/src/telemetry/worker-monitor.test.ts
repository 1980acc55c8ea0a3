/**
 * The worker monitor (issue #13 item 4) through the dispatcher, as a page's `sample` frames
 * reach it: bounded per connection, checked against the hello and the jobs it was given, and
 * shown to non-admins only as far as their own jobs go.
 */
import { describe, expect, it } from 'vitest';
import type { Caller } from '../auth/caller.js';
import { FakeClock } from '../core/testing/fake-clock.js';
import {
  admin,
  answer,
  connect,
  env,
  ok,
  reopen,
  settle,
  useHarness,
} from '../core/testing/harness.js';
import { MAX_FORGED } from '../core/dispatcher.js';
import { SAMPLE_RING, type SampleFrame } from './worker-monitor.js';

useHarness();

const alice: Caller = { name: 'alice', owner: 'alice', role: 'client', seesAll: false };
const bob: Caller = { name: 'bob', owner: 'bob', role: 'client', seesAll: false };

function sample(frame: Partial<SampleFrame> & Pick<SampleFrame, 'busyMs'>) {
  return {
    type: 'sample' as const,
    intervalMs: 5_000,
    tasks: 0,
    heapUsed: null,
    jobs: [],
    ...frame,
  };
}

async function setup() {
  const clock = new FakeClock();
  await reopen({ clock });
  const job = await env.scheduler.createJob(alice, { program: 'function Run(d){return d}' });
  await env.scheduler.submit(alice, job.id, 'b1', [1, 2]);
  const other = await env.scheduler.createJob(bob, { program: 'function Run(d){return d}' });
  await env.scheduler.submit(bob, other.id, 'b1', [1, 2]);
  const w = connect(4, { threads: 2 });
  await settle();
  expect(w.session.hasProgram(job.id) && w.session.hasProgram(other.id)).toBe(true);
  return { clock, job, other, w };
}

describe('worker monitor', () => {
  it('keeps a window of samples and charges each job the connection was given', async () => {
    const { clock, job, other, w } = await setup();
    clock.advance(5_000);
    env.scheduler.dispatcher.handle(
      w.session,
      sample({
        busyMs: [5_000, 2_500],
        heapUsed: 50_000_000,
        jobs: [
          { jobId: job.id, busyMs: 6_000 },
          { jobId: other.id, busyMs: 1_500 },
          { jobId: 'not-given-to-it', busyMs: 1_000 },
        ],
      }),
    );
    const [view] = env.scheduler.monitor.workers(admin);
    expect(view).toMatchObject({ workerId: w.session.id, threads: 2 });
    expect(view!.samples).toEqual([
      {
        at: clock.now(),
        cpu: 0.75,
        tasksPerSecond: 0,
        heapUsed: 50_000_000,
      },
    ]);
    expect(view!.jobs).toEqual([
      { jobId: job.id, cpuMs: 6_000, peakHeapBytes: 50_000_000 },
      { jobId: other.id, cpuMs: 1_500, peakHeapBytes: 50_000_000 },
    ]);
    expect(env.scheduler.job(admin, job.id).record).toMatchObject({
      cpuMs: 6_000,
      peakHeapBytes: 50_000_000,
    });
    expect(env.scheduler.stats.forged).toBe(0);
  });

  it('caps what a lying page claims by the time the server saw pass and the tab’s capacity', async () => {
    const { clock, job, other, w } = await setup();
    clock.advance(3_000); // the page claims 10 minutes
    env.scheduler.dispatcher.handle(
      w.session,
      sample({
        intervalMs: 600_000,
        busyMs: [600_000, 600_000],
        tasks: 1_000_000,
        jobs: [
          { jobId: job.id, busyMs: 1.6e8 },
          { jobId: other.id, busyMs: 1.6e8 },
        ],
      }),
    );
    const [view] = env.scheduler.monitor.workers(admin);
    expect(view!.samples[0]).toMatchObject({ cpu: 1, tasksPerSecond: 4 / 3 }); // 4 held, in 3 s
    // 3 s × 2 threads in all, the first job takes it.
    expect(view!.jobs.map((j) => j.cpuMs)).toEqual([6_000, 0]);
  });

  it('drops samples closer than 2 s; more threads than the hello is a forgery', async () => {
    const { clock, w } = await setup();
    clock.advance(5_000);
    env.scheduler.dispatcher.handle(w.session, sample({ busyMs: [1, 1] }));
    clock.advance(1_000);
    env.scheduler.dispatcher.handle(w.session, sample({ busyMs: [1, 1] }));
    expect(env.scheduler.monitor.dropped).toBe(1);
    clock.advance(1_000);
    env.scheduler.dispatcher.handle(w.session, sample({ busyMs: [1, 1] }));
    expect(env.scheduler.monitor.workers(admin)[0]!.samples).toHaveLength(2);

    const liar = connect(0, { threads: 2 }); // holds nothing: only its lies can close it
    for (let i = 0; i <= MAX_FORGED; i++) {
      clock.advance(5_000);
      env.scheduler.dispatcher.handle(liar.session, sample({ busyMs: [1, 1, 1] }));
    }
    expect(liar.session.forged).toBe(MAX_FORGED + 1);
    expect(liar.link.close).toHaveBeenCalledWith(4000, expect.stringMatching(/Closed/));
    const views = env.scheduler.monitor.workers(admin);
    expect(views.find((v) => v.workerId === liar.session.id)!.samples).toEqual([]);
  });

  it(`keeps the last ${SAMPLE_RING} samples`, async () => {
    const { clock, w } = await setup();
    for (let i = 0; i < SAMPLE_RING + 5; i++) {
      clock.advance(5_000);
      env.scheduler.dispatcher.handle(w.session, sample({ busyMs: [i % 5_000, 0] }));
    }
    const samples = env.scheduler.monitor.workers(admin)[0]!.samples;
    expect(samples).toHaveLength(SAMPLE_RING);
    expect(samples[0]!.cpu).toBeCloseTo(5 / 10_000);
    expect(samples.at(-1)!.at).toBe(clock.now());
  });

  it('shows a non-admin only the workers that ran its jobs, only those jobs, no heap', async () => {
    const { clock, job, other, w } = await setup();
    const idle = connect(0);
    answer(
      w.session,
      w
        .tasks()
        .filter((t) => t.jobId === other.id)
        .map(ok),
    );
    clock.advance(5_000);
    env.scheduler.dispatcher.handle(
      w.session,
      sample({
        busyMs: [5_000, 5_000],
        tasks: 2,
        heapUsed: 9_000_000,
        jobs: [
          { jobId: job.id, busyMs: 2_500 },
          { jobId: other.id, busyMs: 7_500 },
        ],
      }),
    );
    const mine = env.scheduler.monitor.workers(alice);
    expect(mine.map((v) => v.workerId)).toEqual([w.session.id]); // not the idle one
    expect(mine[0]!.jobs).toEqual([{ jobId: job.id, cpuMs: 2_500, peakHeapBytes: 9_000_000 }]);
    expect(mine[0]!.samples).toEqual([
      { at: clock.now(), cpu: 0.25, tasksPerSecond: 0.1, heapUsed: null },
    ]);
    expect(env.scheduler.monitor.workers(bob)[0]!.samples[0]!.cpu).toBe(0.75);
    expect(env.scheduler.monitor.workers(admin).map((v) => v.workerId)).toEqual([
      w.session.id,
      idle.session.id,
    ]);
    // A deleted job's usage is no one's to see.
    await env.scheduler.deleteJob(alice, job.id);
    expect(env.scheduler.monitor.workers(alice)).toEqual([]);
  });

  it('reaches the dashboard: the latest sample per worker, the windows in the history', async () => {
    const { clock, w } = await setup();
    expect((await env.scheduler.statsCollector.snapshot(admin)).workers[0]!.sample).toBeNull();
    clock.advance(5_000);
    env.scheduler.dispatcher.handle(w.session, sample({ busyMs: [5_000, 0], heapUsed: 1_000 }));
    const stats = await env.scheduler.statsCollector.snapshot(admin);
    expect(stats.workers[0]!.sample).toEqual({ cpu: 0.5, heapUsed: 1_000 });
    expect(env.scheduler.statsCollector.history(undefined, admin).workers).toHaveLength(1);
    expect(env.scheduler.statsCollector.history(undefined, bob).workers).toEqual([]); // no jobs shown
    expect(env.scheduler.statsCollector.history().workers).toBeUndefined();
  });
});

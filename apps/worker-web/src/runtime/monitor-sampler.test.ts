import { decodeWorkerToServer } from '@tabgrid/protocol/worker';
import { describe, expect, it } from 'vitest';
import { MonitorSampler } from './monitor-sampler';

function setup() {
  let now = 1_000;
  let busy = [0, 0];
  const sent: unknown[] = [];
  const sampler = new MonitorSampler(
    () => {
      const taken = busy;
      busy = busy.map(() => 0);
      return taken;
    },
    (sample) => sent.push(sample),
    () => now,
  );
  return {
    sampler,
    sent,
    advance: (ms: number) => (now += ms),
    setBusy: (ms: number[]) => (busy = ms),
  };
}

describe('MonitorSampler', () => {
  it('sends nothing while no task ran', () => {
    const { sampler, sent, advance } = setup();
    advance(5_000);
    expect(sampler.sample()).toBeUndefined();
    expect(sent).toEqual([]);
  });

  it('sends busy time per thread (at most the interval), tasks, and busy time per job', () => {
    const { sampler, sent, advance, setBusy } = setup();
    sampler.record('job-a', 10, 1_200);
    sampler.record('job-b', 5, 300);
    sampler.record('job-a', 1, 100);
    setBusy([1_300, 9_000]);
    advance(5_000);
    const sample = sampler.sample();
    expect(sample).toMatchObject({
      type: 'sample',
      busyMs: [1_300, 5_000],
      intervalMs: 5_000,
      tasks: 16,
      jobs: [
        { jobId: 'job-a', busyMs: 1_300 },
        { jobId: 'job-b', busyMs: 300 },
      ],
    });
    expect(sent).toEqual([sample]);
    // The frame is one the server accepts.
    expect(decodeWorkerToServer(JSON.stringify(sample))).toMatchObject({ type: 'sample' });
    advance(5_000);
    expect(sampler.sample()).toBeUndefined();
  });

  it('keeps the busiest jobs only, within the protocol bound', () => {
    const { sampler, advance } = setup();
    for (let i = 0; i < 100; i++) sampler.record(`job-${i}`, 1, i);
    advance(5_000);
    const jobs = sampler.sample()!.jobs;
    expect(jobs).toHaveLength(64);
    expect(jobs[0]).toEqual({ jobId: 'job-99', busyMs: 99 });
  });
});

import { describe, expect, it } from 'vitest';
import { unmetRequirement } from '@tabgrid/protocol/jobs';
import { admin, connect, env, ok, answer, restart, settle, useHarness } from './testing/harness.js';
import { unservableReason } from './requirements-check.js';

const OPERATOR = {
  name: 'Example Lab',
  description: 'Folds proteins.',
  link: 'https://example.org',
};
useHarness({ operator: OPERATOR });

const GPU = { webgpu: { fallback: true, limits: { maxStorageBufferBindingSize: 134_217_728 } } };

describe('unmetRequirement', () => {
  it('names the first requirement an offer lacks, and nothing when it meets them all', () => {
    expect(unmetRequirement(undefined, { threads: 1 })).toBeUndefined();
    expect(unmetRequirement({ webgpu: true }, { threads: 8 })).toBe('WebGPU');
    expect(unmetRequirement({ webgpu: true }, { threads: 1, capabilities: GPU })).toBeUndefined();
    expect(unmetRequirement({ webgpu: 'hardware' }, { threads: 1, capabilities: GPU })).toBe(
      'a hardware WebGPU adapter',
    );
    expect(unmetRequirement({ minThreads: 4 }, { threads: 2 })).toBe('4 threads');
    expect(unmetRequirement({ minThreads: 4 }, { threads: 4 })).toBeUndefined();
    // A tab that reports no memory does not qualify for a memory requirement.
    expect(unmetRequirement({ minDeviceMemoryGb: 4 }, { threads: 1 })).toBe(
      '4 GB of device memory',
    );
    expect(
      unmetRequirement(
        { minDeviceMemoryGb: 4 },
        { threads: 1, capabilities: { deviceMemoryGb: 8 } },
      ),
    ).toBeUndefined();
  });

  it('unservableReason: null as soon as one ready worker qualifies; else what they lack', () => {
    const plain = { ready: true, offer: { threads: 2 } };
    const gpu = { ready: true, offer: { threads: 1, capabilities: GPU } };
    const unready = { ready: false, offer: { threads: 1, capabilities: GPU } };
    expect(unservableReason({ webgpu: true }, [plain, gpu])).toBeNull();
    expect(unservableReason({ webgpu: true }, [plain, unready, plain])).toBe(
      'no connected worker offers WebGPU (2 connected)',
    );
    expect(unservableReason({ minThreads: 4 }, [])).toBe(
      'no worker is connected; the job needs one that offers 4 threads',
    );
  });
});

describe('requirements in dispatch', () => {
  it('gives a WebGPU job only to the tab that offers WebGPU; its status says so until one connects', async () => {
    const gpuJob = await env.scheduler.createJob(admin, {
      program: 'function Run(d){ return d }',
      requirements: { webgpu: true },
      public: { name: 'Matrix products', link: 'https://example.org/mm' },
    });
    const plainJob = await env.scheduler.createJob(admin, {
      program: 'function Run(d){ return d }',
    });
    await env.scheduler.submit(admin, gpuJob.id, 'b1', [1, 2, 3]);
    await env.scheduler.submit(admin, plainJob.id, 'b1', [4, 5]);
    const plain = connect(100, { threads: 8 });
    await settle();
    expect(plain.tasks().map((t) => t.jobId)).toEqual([plainJob.id, plainJob.id]);
    expect(env.scheduler.job(admin, gpuJob.id).info().unservable).toBe(
      'no connected worker offers WebGPU (1 connected)',
    );
    expect(env.scheduler.job(admin, plainJob.id).info().unservable).toBeNull();

    const gpu = connect(100, { capabilities: GPU });
    await settle();
    // A new worker's first window is small: it gets the rest as it answers.
    expect(gpu.tasks().length).toBeGreaterThan(0);
    expect(gpu.tasks().every((t) => t.jobId === gpuJob.id)).toBe(true);
    expect(plain.tasks().filter((t) => t.jobId === gpuJob.id)).toHaveLength(0);
    expect(env.scheduler.job(admin, gpuJob.id).info().unservable).toBeNull();
    // The program frame carries the job's public face; every welcome, the operator.
    expect(gpu.frames).toContainEqual(
      expect.objectContaining({
        type: 'job',
        jobId: gpuJob.id,
        public: { name: 'Matrix products', link: 'https://example.org/mm' },
      }),
    );
    expect(plain.frames.find((f) => f.type === 'job')).not.toHaveProperty('public');
    expect(gpu.frames[0]).toMatchObject({ type: 'welcome', operator: OPERATOR });
    for (let answered = 0; answered < gpu.tasks().length;) {
      const fresh = gpu.tasks().slice(answered);
      answered += fresh.length;
      answer(gpu.session, fresh.map(ok));
      await settle();
    }
    expect(gpu.tasks().map((t) => t.input)).toEqual([1, 2, 3]);
    expect(env.scheduler.job(admin, gpuJob.id).info()).toMatchObject({ finished: 3 });
  });

  it('keeps public and requirements across a restart, and shows them in the job info', async () => {
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){ return d }',
      requirements: { minThreads: 4 },
      public: { name: 'Prime sieve', description: 'Counts primes.' },
    });
    await restart({ operator: OPERATOR });
    const info = env.scheduler.job(admin, job.id).info();
    expect(info.requirements).toEqual({ minThreads: 4 });
    expect(info.public).toEqual({ name: 'Prime sieve', description: 'Counts primes.' });
    await env.scheduler.submit(admin, job.id, 'b1', [1]);
    const small = connect(10, { threads: 2 });
    await settle();
    expect(small.tasks()).toHaveLength(0);
    expect(env.scheduler.job(admin, job.id).info().unservable).toBe(
      'no connected worker offers 4 threads (1 connected)',
    );
    const big = connect(10, { threads: 4 });
    await settle();
    expect(big.tasks()).toHaveLength(1);
  });

  it('a Setup that failed on the only tab that qualifies does not wait for tabs that cannot run the job', async () => {
    const job = await env.scheduler.createJob(admin, {
      program: 'function Setup(){}\nfunction Run(d){ return d }',
      requirements: { webgpu: true },
      maxAttempts: 3,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [7]);
    const gpu = connect(10, { capabilities: GPU });
    connect(10, { threads: 8 }); // no WebGPU: it never gets the job, so it must not hold it up
    await settle();
    expect(gpu.tasks()).toHaveLength(1);
    answer(gpu.session, [
      {
        jobId: job.id,
        index: 0,
        ms: 0,
        ok: false,
        error: { name: 'Error', message: 'no adapter yet', stack: '', phase: 'setup' },
      },
    ]);
    await settle();
    // Its Setup failed there, but no other tab can run the job: it gets the task again.
    expect(gpu.tasks()).toHaveLength(2);
    answer(gpu.session, gpu.tasks().slice(1).map(ok));
    await settle();
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ finished: 1 });
  });
});

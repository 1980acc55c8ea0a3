import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { CreateJobRequest } from './jobs.js';
import { VOLUNTEER_LIMITS } from './volunteer.js';
import { decodeServerToWorker, decodeWorkerToServer } from './worker.js';

const hello = (capabilities: unknown) =>
  JSON.stringify({
    type: 'hello',
    protocol: 2,
    threads: 2,
    userAgent: 'x',
    credit: 4,
    capabilities,
  });

describe('volunteer schemas (issue 16)', () => {
  it('bounds what a tab may claim at hello', () => {
    const limits = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`limit${i}`, i]));
    const gpu = (n: number) => ({ webgpu: { fallback: true, limits: limits(n) } });
    expect(() => decodeWorkerToServer(hello(gpu(VOLUNTEER_LIMITS.maxGpuLimits)))).not.toThrow();
    expect(() => decodeWorkerToServer(hello(gpu(VOLUNTEER_LIMITS.maxGpuLimits + 1)))).toThrow();
    expect(() => decodeWorkerToServer(hello({ deviceMemoryGb: 8 }))).not.toThrow();
    expect(() => decodeWorkerToServer(hello({ deviceMemoryGb: 1e9 }))).toThrow();
    expect(() => decodeWorkerToServer(hello({ webgpu: { fallback: 'no', limits: {} } }))).toThrow();
    // A hello without capabilities (an older page) still decodes.
    expect(() => decodeWorkerToServer(hello(undefined))).not.toThrow();
  });

  it('takes only links a page can show safely, and names within their limits', () => {
    const job = (face: unknown) => ({ program: 'function Run(d){return d}', public: face });
    expect(Value.Check(CreateJobRequest, job({ name: 'Primes', link: 'https://x.org/p' }))).toBe(
      true,
    );
    expect(Value.Check(CreateJobRequest, job({ name: 'Mail', link: 'mailto:a@b.org' }))).toBe(true);
    for (const link of ['javascript:alert(1)', 'data:text/html,x', 'https://x.org/a b']) {
      expect(Value.Check(CreateJobRequest, job({ name: 'Evil', link }))).toBe(false);
    }
    expect(Value.Check(CreateJobRequest, job({ name: '' }))).toBe(false);
    expect(Value.Check(CreateJobRequest, job({ name: 'x'.repeat(121) }))).toBe(false);
    expect(Value.Check(CreateJobRequest, job({ name: 'ok', extra: 1 }))).toBe(false);
    const needs = (requirements: unknown) => ({ program: 'function Run(){}', requirements });
    expect(Value.Check(CreateJobRequest, needs({ webgpu: 'hardware', minThreads: 4 }))).toBe(true);
    expect(Value.Check(CreateJobRequest, needs({ webgpu: 'maybe' }))).toBe(false);
    expect(Value.Check(CreateJobRequest, needs({ minThreads: 0 }))).toBe(false);
    expect(Value.Check(CreateJobRequest, needs({ cuda: true }))).toBe(false);
  });

  it('a welcome and a job frame carry the operator and the public face', () => {
    const welcome = decodeServerToWorker(
      JSON.stringify({ type: 'welcome', protocol: 2, workerId: 'w1', operator: { name: 'Lab' } }),
    );
    expect(welcome).toMatchObject({ operator: { name: 'Lab' } });
    expect(() =>
      decodeServerToWorker(
        JSON.stringify({
          type: 'welcome',
          protocol: 2,
          workerId: 'w1',
          operator: { name: 'Lab', link: 'javascript:x' },
        }),
      ),
    ).toThrow();
  });
});

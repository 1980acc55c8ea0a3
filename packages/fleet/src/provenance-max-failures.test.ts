/**
 * Issue #14, items 5 and 6 end to end: a real server and simulated workers speaking the real
 * worker protocol. Provenance (SDK option and REST `?provenance`) names the worker connection
 * that settled each task, its attempt, run and queued times and the program's hash; the
 * CrowdProcess-compatible lines keep their shape without it. `maxFailures` stops a job whose
 * first N tasks fail alike, and says why.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Fleet } from './fleet.js';
import { serversPerTest } from '@tabgrid/server/testing/vitest';

const servers = serversPerTest();

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The NDJSON lines of a REST answer, parsed. */
async function ndjson(url: string, auth: { authorization: string }): Promise<unknown[]> {
  const response = await fetch(url, { headers: auth });
  expect(response.status).toBe(200);
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}

describe('provenance over simulated workers', () => {
  it('names the worker, attempt, run and queued times and program hash of every outcome', async () => {
    const env = await servers.start();
    const fleet = env.adopt(
      new Fleet({ url: env.wsUrl, workers: 3, credit: 8, behavior: { delayMs: [0, 2] } }),
    );
    await fleet.start();
    const program =
      'function Run(d) { if (d % 10 === 3) throw new TypeError("odd " + d); return d * 2 }';
    const job = await env.tg.createJob({ program, name: 'provenance' });
    const workerIds = new Set(fleet.workers.map((w) => w.workerId));
    const total = 200;
    const seen = new Set<number>();
    for await (const o of job.run(
      Array.from({ length: total }, (_, i) => i),
      { provenance: true },
    )) {
      seen.add(o.index);
      expect(o.ok).toBe(o.index % 10 !== 3);
      const p = o.provenance;
      expect(p, `task ${o.index} has no provenance`).toBeDefined();
      expect(workerIds.has(p!.workerId ?? '')).toBe(true);
      expect(p).toMatchObject({ attempt: 1, programHash: sha256(program) });
      expect(p!.runMs).toBeGreaterThanOrEqual(0);
      expect(p!.queuedMs).toBeGreaterThanOrEqual(0);
    }
    expect(seen.size).toBe(total);
    expect((await job.status()).programHash).toBe(sha256(program));

    // Read again later: the same provenance, from the store.
    const results = [];
    for await (const r of job.results({ provenance: true })) results.push(r);
    expect(results).toHaveLength(total - 20);
    expect(results.every((r) => r.provenance?.programHash === sha256(program))).toBe(true);
    const errors = [];
    for await (const e of job.errors({ provenance: true })) errors.push(e);
    expect(errors).toHaveLength(20);
    expect(errors.every((e) => workerIds.has(e.provenance?.workerId ?? ''))).toBe(true);
    // Not asked for: not there.
    for await (const r of job.results()) expect(r).not.toHaveProperty('provenance');

    // REST: ?provenance adds it; the CrowdProcess-compatible lines keep their shape without it.
    const base = `${env.url}/api/jobs/${job.id}`;
    const plain = await ndjson(`${base}/results`, env.auth);
    expect(plain).toHaveLength(total - 20);
    expect(plain.every((line) => typeof line === 'number')).toBe(true);
    const withProvenance = await ndjson(`${base}/results?provenance`, env.auth);
    expect(withProvenance[0]).toEqual({
      index: expect.any(Number),
      value: expect.any(Number),
      provenance: {
        workerId: expect.any(String),
        attempt: 1,
        runMs: expect.any(Number),
        queuedMs: expect.any(Number),
        programHash: sha256(program),
      },
    });
    const plainErrors = await ndjson(`${base}/errors`, env.auth);
    expect(Object.keys(plainErrors[0] as object).sort()).toEqual([
      'index',
      'message',
      'name',
      'stack',
      'type',
    ]);
    const errorsWithProvenance = await ndjson(`${base}/errors?provenance`, env.auth);
    expect(errorsWithProvenance[0]).toMatchObject({
      name: 'TypeError',
      type: 'program',
      provenance: { attempt: 1, programHash: sha256(program) },
    });
  }, 60_000);
});

describe('maxFailures over simulated workers', () => {
  it('stops a job whose first N tasks fail with the same error, and says why', async () => {
    const env = await servers.start();
    const fleet = env.adopt(new Fleet({ url: env.wsUrl, workers: 1, credit: 1 }));
    await fleet.start();
    const job = await env.tg.createJob({
      program: 'function Run(d) { return d.x.y }',
      name: 'broken',
      maxFailures: 5,
    });
    expect(job.info?.maxFailures).toBe(5);
    const outcomes = [];
    let thrown: unknown;
    try {
      for await (const o of job.run(Array.from({ length: 500 }, (_, i) => ({ i }))))
        outcomes.push(o);
    } catch (error) {
      thrown = error;
    }
    const status = await job.status();
    expect(status.state).toBe('cancelled');
    expect(status.cancelReason).toMatch(
      /^stopped after 5 tasks failed with the same error: TypeError: Cannot read properties of undefined/,
    );
    // The SDK's stream ends with the reason when it ends in an error (a cancelled stream throws).
    if (thrown !== undefined)
      expect(String((thrown as Error).message)).toContain(status.cancelReason);
    // Every task settled once: the first five as the program's error, the rest cancelled unrun.
    expect(outcomes).toHaveLength(500);
    const types = outcomes.map((o) => (o.ok ? 'ok' : o.error.type));
    expect(types.filter((t) => t === 'program').length).toBeGreaterThanOrEqual(5);
    expect(types.filter((t) => t === 'program').length).toBeLessThan(10); // stopped early
    expect(types.filter((t) => t === 'ok')).toHaveLength(0);
    const restView = (await (
      await fetch(`${env.url}/api/jobs/${job.id}`, { headers: env.auth })
    ).json()) as {
      cancelReason: string;
      status: string;
    };
    expect(restView).toMatchObject({ status: 'cancelled', cancelReason: status.cancelReason });
  }, 60_000);
});

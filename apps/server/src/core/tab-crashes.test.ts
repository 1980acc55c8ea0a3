/**
 * Issue #11, item 7: a task that crashes its tab (a memory bomb) must not take the innocent
 * tasks sharing that tab down with it, and a job whose tasks keep killing tabs is paused.
 */
import { carriedText } from '@tabgrid/protocol/packed-value';
import { describe, expect, it } from 'vitest';
import type { TaskFailure } from '@tabgrid/protocol/jobs';
import {
  admin,
  answer,
  connect,
  env,
  ok,
  settle,
  useHarness,
  type TestWorker,
} from './testing/harness.js';

useHarness();

/**
 * Runs the job with fresh workers of `credit` slots: each answers its tasks, except that a
 * worker given a poison index dies on the spot (like a tab whose Run exhausted its memory).
 */
async function runWithPoison(
  jobId: string,
  poison: Set<number>,
  credit: number,
  rounds = 200,
  address?: (round: number) => string,
) {
  let deaths = 0;
  let w: TestWorker | undefined;
  for (let round = 0; round < rounds; round++) {
    const info = env.scheduler.job(admin, jobId).info();
    if (info.state === 'done' || info.paused) break;
    w ??= connect(credit, address ? { address: address(round) } : {});
    await settle();
    const held = w
      .tasks()
      .filter(
        (t) =>
          env.scheduler.job(admin, jobId).leases.get(t.index)?.grant.owner.connection ===
          w!.session.id,
      );
    if (held.some((t) => poison.has(t.index))) {
      env.scheduler.dispatcher.disconnect(w.session); // the tab is gone, with all it held
      deaths++;
      w = undefined;
      continue;
    }
    answer(w.session, held.map(ok));
  }
  await settle();
  return deaths;
}

describe('tasks that kill their tab', () => {
  it('the poison task settles lost after 3 crashes alone; its tab mates succeed, charged nothing', async () => {
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      maxAttempts: 10,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(40).keys()]);
    await env.scheduler.closeJob(admin, job.id);
    const runtime = env.scheduler.job(admin, job.id);
    const deaths = await runWithPoison(job.id, new Set([5]), 8);
    expect(runtime.info()).toMatchObject({ state: 'done', finished: 39, failed: 1, paused: null });
    // 1 death while it shared a tab (uncharged), then 3 alone.
    expect(deaths).toBe(4);
    const errors = await env.store.readOutcomes(job.id, 0, 'errors', 10);
    expect(errors).toHaveLength(1);
    const failure = JSON.parse(carriedText(errors[0]!.payload)) as TaskFailure;
    expect(failure).toMatchObject({ type: 'lost', name: 'LostError' });
    expect(failure.message).toMatch(/^Task 5 crashed or lost its tab 3 time\(s\) \(limit 3\)/);
    // Innocent tasks were never charged an attempt (nothing saved, nothing left over).
    expect(runtime.tries.attempts.size).toBe(0);
    const tries = await env.store.readTries(job.id);
    expect([...tries.keys()].filter((i) => i !== 5)).toEqual([]);
  });

  it('one host that keeps dropping a task it runs alone is charged once; three hosts settle it', async () => {
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      maxAttempts: 10,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [0]);
    await env.scheduler.closeJob(admin, job.id);
    const runtime = env.scheduler.job(admin, job.id);
    // An attacker from one address takes the task and hangs up, 20 times over.
    const deaths = await runWithPoison(job.id, new Set([0]), 1, 20, () => '203.0.113.9');
    expect(deaths).toBe(20);
    expect(runtime.info()).toMatchObject({ state: 'closed', failed: 0, paused: null });
    expect(runtime.tries.attempts.get(0)).toBe(1);
    // Tabs of three distinct hosts crashing on it: that is a task that kills tabs.
    await runWithPoison(job.id, new Set([0]), 1, 20, (round) => `198.51.100.${round + 1}`);
    expect(runtime.info()).toMatchObject({ state: 'done', failed: 1 });
    const [error] = await env.store.readOutcomes(job.id, 0, 'errors', 10);
    expect((JSON.parse(carriedText(error!.payload)) as TaskFailure).message).toMatch(
      /crashed or lost its tab 3 time/,
    );
  });

  it("the crash limit is the job's maxAttempts when lower", async () => {
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      maxAttempts: 2,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [0, 1, 2]);
    await env.scheduler.closeJob(admin, job.id);
    await runWithPoison(job.id, new Set([1]), 3);
    const [error] = await env.store.readOutcomes(job.id, 0, 'errors', 10);
    expect((JSON.parse(carriedText(error!.payload)) as TaskFailure).message).toMatch(
      /2 time\(s\) \(limit 2\)/,
    );
  });

  it('a job with many poison tasks is paused, says why, and dispatches nothing until resumed', async () => {
    const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(30).keys()]);
    await env.scheduler.closeJob(admin, job.id);
    const poison = new Set([0, 1, 2, 3, 4, 5]);
    await runWithPoison(job.id, poison, 4);
    const info = env.scheduler.job(admin, job.id).info();
    expect(info.paused).toMatch(/3 tasks crashed or lost their tab 3 time\(s\) each/);
    expect(info.failed).toBe(3);
    expect(info.state).toBe('closed');
    // Paused: an idle worker gets nothing.
    const idle = connect(10);
    await settle();
    expect(idle.tasks()).toEqual([]);
    // The owner resumes: dispatch starts again.
    const resumed = await env.scheduler.resumeJob(admin, job.id);
    expect(resumed.paused).toBeNull();
    await settle();
    expect(idle.tasks().length).toBeGreaterThan(0);
  });
});

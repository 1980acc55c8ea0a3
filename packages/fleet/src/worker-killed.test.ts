/**
 * Issue #5, scenario 1: a worker killed mid-task (its socket terminated while it holds leased
 * tasks): its tasks finish on other workers, and every index arrives exactly once with the right
 * value.
 */
import { describe, expect, it } from 'vitest';
import type { TaskOutcome } from '@tabgrid/sdk';
import { Fleet } from './fleet.js';
import type { SimWorkerEvent } from './sim-worker.js';
import type { TaskRef } from './task-executor.js';
import { assertExactlyOnce, until } from '@tabgrid/server/testing';
import { serverPerTest } from '@tabgrid/server/testing/vitest';

/** A server per test; each test's fleet is adopted by it, so it stops before the server closes. */
const env = serverPerTest();
let fleet: Fleet | undefined;

const PROGRAM = 'function Run(d, args) { return { i: d, sq: d * d + args.k } }';
const expected = (i: number) => ({ i, sq: i * i + 7 });
const TOTAL = 3000;

async function consume(job: { run(tasks: number[]): AsyncIterable<TaskOutcome> }) {
  const outcomes: TaskOutcome[] = [];
  for await (const o of job.run(Array.from({ length: TOTAL }, (_, i) => i))) outcomes.push(o);
  return outcomes;
}

describe('a worker killed mid-task', () => {
  it('dieMidTask: its leased tasks finish on the others, each index exactly once', async () => {
    const held: TaskRef[] = [];
    const onEvent = (event: SimWorkerEvent) => {
      if (event.type === 'closed' && event.cause === 'died') held.push(...event.held);
    };
    fleet = env.adopt(
      new Fleet({
        url: env.wsUrl,
        workers: 4,
        credit: 20,
        behavior: { delayMs: [1, 3] },
        validateFrames: true,
        onEvent,
      }),
    );
    // Worker 0 answers some tasks, then dies on the batch that takes it past 60.
    fleet.workers[0]!.behave({ dieMidTask: { afterTasks: 60 } });
    await fleet.start();
    const job = await env.tg.createJob({ program: PROGRAM, args: { k: 7 } });
    const outcomes = await consume(job);

    const victim = fleet.workers[0]!;
    expect(victim.stats.deaths).toBe(1);
    expect(victim.state).toBe('down');
    expect(victim.stats.tasksDone).toBeGreaterThan(0);
    // It died holding tasks it had not answered...
    expect(held.length).toBeGreaterThan(0);
    expect(victim.stats.lost).toBe(held.length);
    expect(victim.stats.tasksDone + held.length).toBe(victim.stats.tasksReceived);
    // ...which the others ran: every index once, right, none failed.
    assertExactlyOnce(TOTAL, outcomes, { expected });
    const doneElsewhere = fleet.workers.slice(1).reduce((n, w) => n + w.stats.tasksDone, 0);
    // (At least: an outcome in flight when the socket was cut may have been run twice.)
    expect(doneElsewhere).toBeGreaterThanOrEqual(TOTAL - victim.stats.tasksDone);
    // 3,000 tasks of 1–3 ms on 4 workers: ~2 s on a quiet machine; a loaded one needs more.
  }, 20_000);

  it('kill(): a worker terminated while holding a full credit of tasks', async () => {
    fleet = env.adopt(new Fleet({ url: env.wsUrl, workers: 3, credit: 50, validateFrames: true }));
    await fleet.start();
    const victim = fleet.workers[1]!;
    const job = await env.tg.createJob({ program: PROGRAM, args: { k: 7 } });
    const outcomes: TaskOutcome[] = [];
    const consuming = (async () => {
      for await (const o of job.run(Array.from({ length: TOTAL }, (_, i) => i))) outcomes.push(o);
    })();
    // It works until its window is past its credit, then takes tasks and sits on them, so the
    // kill is sure to find a full credit leased.
    await until(() => victim.stats.tasksDone >= 100, {
      timeoutMs: 5000,
      what: 'victim earned its window',
    });
    victim.behave({ hang: true });
    await until(() => victim.held === 50, { timeoutMs: 5000, what: 'victim holds its credit' });
    const doneBefore = victim.stats.tasksDone;
    const leased = env.server.scheduler.findJob(job.id)!.leases.size;
    expect(leased).toBeGreaterThanOrEqual(50);
    victim.kill();
    await consuming;

    expect(victim.stats).toMatchObject({ tasksDone: doneBefore, lost: 50 });
    expect(victim.stats.tasksReceived).toBe(doneBefore + 50);
    assertExactlyOnce(TOTAL, outcomes, { expected });
    const info = await job.status();
    expect(info).toMatchObject({ state: 'done', finished: TOTAL, failed: 0 });
  });
});

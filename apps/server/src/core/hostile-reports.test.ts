/**
 * Issue #13: `report` frames are untrusted input like outcomes. Each test is an attack (or an
 * honest page's edge) and what happens instead: a report is kept only when it is about what
 * this connection was given; anything else is counted as forged, and too many close it.
 */
import { describe, expect, it } from 'vitest';
import { WorkerCloseCode } from '@tabgrid/protocol/worker';
import type { TaskReport } from '@tabgrid/protocol/task-reports';
import { MAX_FORGED } from './dispatcher.js';
import { LEFT_GRACE_MS } from './recently-left.js';
import { REPORT_BURST, REPORT_RATE, SETUPS_PER_THREAD } from './task-reports.js';
import { FakeClock } from './testing/fake-clock.js';
import {
  admin,
  answer,
  connect,
  env,
  ok,
  reopen,
  report,
  settle,
  useHarness,
} from './testing/harness.js';

useHarness();

const line = (message: string) => ({ level: 'log' as const, message, count: 1, at: 1 });

async function jobWith(inputs: unknown[]) {
  const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
  await env.scheduler.submit(admin, job.id, 'b1', inputs);
  await env.scheduler.closeJob(admin, job.id);
  return job;
}

const info = (jobId: string) => env.scheduler.job(admin, jobId).info();
const logInfo = (jobId: string) => info(jobId).logs!;
const logsOf = (jobId: string) => env.scheduler.store.readLogs(jobId, 0, 200_000);

describe('forged reports', () => {
  it('about a task leased to another connection: counted forged, nothing kept', async () => {
    const job = await jobWith([1, 2]);
    const honest = connect(2);
    await settle();
    const attacker = connect(0);
    report(attacker.session, [
      { jobId: job.id, index: 0, progress: 0.5, started: true, logs: [line('forged')] },
      { jobId: job.id, index: 1, events: [{ name: 'e', data: 1, at: 1 }] },
    ]);
    await settle();
    expect(attacker.session.forged).toBe(2);
    expect(env.scheduler.stats.forged).toBe(2);
    expect(info(job.id)).toMatchObject({ logs: { lines: 0 }, events: { count: 0 } });
    expect(env.scheduler.progressBoard.snapshot(job.id)).toEqual([]);
    // The holder's report of the same task is kept.
    report(honest.session, [{ jobId: job.id, index: 0, progress: 0.25, logs: [line('mine')] }]);
    await settle();
    expect(honest.session.forged).toBe(0);
    expect(env.scheduler.progressBoard.snapshot(job.id)).toMatchObject([
      { index: 0, fraction: 0.25, workerId: honest.session.id },
    ]);
    expect((await logsOf(job.id)).map((l) => [l.index, l.message, l.workerId])).toEqual([
      [0, 'mine', honest.session.id],
    ]);
  });

  it('about a job whose program it was never given, or no job at all: forged', async () => {
    const job = await jobWith([1]);
    connect(1);
    await settle();
    const attacker = connect(0);
    report(attacker.session, [
      { jobId: job.id, index: null, logs: [line('setup lies')], setup: { ms: 5, ok: true } },
      { jobId: 'no-such-job', index: null, logs: [line('x')] },
      { jobId: 'no-such-job', index: 3, progress: 1 },
    ]);
    await settle();
    expect(attacker.session.forged).toBe(3);
    expect(info(job.id)).toMatchObject({ logs: { lines: 0 }, setups: { count: 0 } });
  });

  it(`closes the connection past ${MAX_FORGED} forged items`, async () => {
    const job = await jobWith([1]);
    connect(1);
    await settle();
    const attacker = connect(0);
    const items: TaskReport[] = Array.from({ length: MAX_FORGED + 1 }, () => ({
      jobId: job.id,
      index: 0,
      progress: 1,
    }));
    report(attacker.session, items);
    expect(attacker.link.close).toHaveBeenCalledWith(
      WorkerCloseCode.PROTOCOL_ERROR,
      expect.stringContaining(`${MAX_FORGED + 1}`),
    );
  });

  it('a late report for a task taken back from it is dropped, not forged', async () => {
    const job = await jobWith([1]);
    const w = connect(1);
    await settle();
    const runtime = env.scheduler.job(admin, job.id);
    const lease = runtime.held.heldBy(0, w.session.id)!;
    env.scheduler.leases.takeBack(lease, Date.now());
    report(w.session, [{ jobId: job.id, index: 0, progress: 0.9, logs: [line('late')] }]);
    await settle();
    expect(w.session.forged).toBe(0);
    expect(env.scheduler.stats.dropped).toBe(1);
    expect(logInfo(job.id).lines).toBe(0);
    // Its late outcome is still a duplicate (the report did not use up the mark).
    answer(w.session, [ok({ jobId: job.id, index: 0, input: 1 })]);
    await settle();
    expect(env.scheduler.stats.duplicates).toBe(1);
    expect(w.session.forged).toBe(0);
  });
});

it(`a page counts at most ${SETUPS_PER_THREAD} Setups per thread and job`, async () => {
  const job = await jobWith([1]);
  const w = connect(1, { threads: 2 });
  await settle();
  const setup = { jobId: job.id, index: null, setup: { ms: 5, ok: true } };
  report(
    w.session,
    Array.from({ length: 3 * SETUPS_PER_THREAD }, () => setup),
  );
  expect(info(job.id).setups).toEqual({
    count: 2 * SETUPS_PER_THREAD,
    totalMs: 10 * SETUPS_PER_THREAD,
    maxMs: 5,
  });
  expect(w.session.forged).toBe(0);
});

describe('Teardown lines after the job retired', () => {
  it(`are kept for ${LEFT_GRACE_MS / 1000} s from a connection that had the program, then forged`, async () => {
    const clock = new FakeClock();
    await reopen({ clock });
    const job = await jobWith([1]);
    const w = connect(1);
    await settle();
    answer(w.session, w.tasks().map(ok));
    await settle();
    expect(info(job.id).state).toBe('done');
    expect(w.frames.at(-1)).toEqual({ type: 'cancel', jobId: job.id, reason: 'done' });
    report(w.session, [{ jobId: job.id, index: null, logs: [line('bye')] }]);
    await settle();
    expect(w.session.forged).toBe(0);
    expect((await logsOf(job.id)).map((l) => [l.index, l.message])).toEqual([[null, 'bye']]);
    clock.advance(LEFT_GRACE_MS);
    report(w.session, [{ jobId: job.id, index: null, logs: [line('much later')] }]);
    await settle();
    expect(w.session.forged).toBe(1);
    expect(logInfo(job.id).lines).toBe(1);
  });
});

describe('budgets and caps', () => {
  /** `lines` console lines in report items of 256 (the most one item carries). */
  const flood = (jobId: string, index: number | null, lines: number): TaskReport[] => {
    const items: TaskReport[] = [];
    for (let n = 0; n < lines; n += 256) {
      const logs = Array.from({ length: Math.min(256, lines - n) }, (_, i) => line(`l${n + i}`));
      items.push({ jobId, index, logs });
    }
    return items;
  };

  it('a connection past its budget has its lines counted dropped, not stored; it refills with time', async () => {
    const clock = new FakeClock();
    await reopen({ clock });
    const a = await jobWith([1]);
    const b = await jobWith([1]);
    const w = connect(2);
    await settle();
    const sent = 61_440; // 240 items of 256, per job
    report(w.session, [...flood(a.id, null, sent), ...flood(b.id, null, sent)]);
    await settle();
    const stored = logInfo(a.id).lines + logInfo(b.id).lines;
    const dropped = logInfo(a.id).dropped + logInfo(b.id).dropped;
    expect(stored).toBeLessThanOrEqual(REPORT_BURST);
    expect(stored).toBeGreaterThan(REPORT_BURST - 256);
    expect(stored + dropped).toBe(2 * sent);
    expect(w.session.forged).toBe(0); // over budget is not a forgery
    clock.advance(1000); // REPORT_RATE more
    report(w.session, flood(b.id, null, 256));
    await settle();
    expect(logInfo(b.id).lines + logInfo(a.id).lines).toBe(stored + 256);
    expect(REPORT_RATE).toBeGreaterThan(256);
  });

  it('a job past its cap stores one synthetic line saying so, and counts the rest', async () => {
    const clock = new FakeClock();
    await reopen({ clock });
    const job = await jobWith([1]);
    const w = connect(1);
    await settle();
    report(w.session, flood(job.id, null, 100_000));
    await settle();
    expect(info(job.id).logs).toEqual({ lines: 100_000, dropped: 0 });
    clock.advance(10_000);
    report(w.session, flood(job.id, null, 1_000));
    report(w.session, [{ jobId: job.id, index: null, dropped: { logs: 1_204 } }]);
    await settle();
    expect(info(job.id).logs).toEqual({ lines: 100_001, dropped: 2_204 });
    const [last] = await env.scheduler.store.readLogs(job.id, 100_000, 10);
    expect(last).toMatchObject({ seq: 100_001, index: null, level: 'warn', workerId: 'server' });
    expect(last!.message).toContain('100,000 log lines (the limit per job)');
  });

  it('events past the cap: dropped and counted, one log line says so', async () => {
    const job = await jobWith([1]);
    const w = connect(1);
    await settle();
    const events = Array.from({ length: 256 }, (_, i) => ({ name: 'tick', data: { i }, at: 1 }));
    const items: TaskReport[] = [];
    for (let n = 0; n < 100_000 + 512; n += 256) items.push({ jobId: job.id, index: null, events });
    report(w.session, items.slice(0, 390)); // 99,840: within the burst
    await settle();
    expect(info(job.id).events).toEqual({ count: 99_840, dropped: 0 });
    // A later flush past the cap, with the budget refilled by a restart of the bucket's clock.
    const other = connect(0);
    other.session.programSent(job.id); // as if it had loaded the job too
    report(other.session, items.slice(390, 392));
    await settle();
    expect(info(job.id).events).toEqual({ count: 100_000, dropped: 352 });
    const logs = await logsOf(job.id);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.message).toContain('100,000 events (the limit per job)');
  });
});

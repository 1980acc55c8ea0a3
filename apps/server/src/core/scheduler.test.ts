import { describe, expect, it, vi } from 'vitest';
import { carriedText } from '@tabgrid/protocol/packed-value';
import type { WorkerOutcome } from '@tabgrid/protocol/worker';
import { holdLimit } from './hold-limit.js';
import { retryDelayMs } from './retry-backoff.js';
import { FakeClock, seededRandom } from './testing/fake-clock.js';
import {
  admin,
  answer,
  connect,
  env,
  ok,
  reopen,
  restart,
  settle,
  timeFirstTasks,
  useHarness,
  withFakeClock,
} from './testing/harness.js';
import type { WorkerSession } from './worker-registry.js';

useHarness();

describe('Scheduler', () => {
  it('never sends a worker more tasks than its credit, nor more than its window', async () => {
    const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(50).keys()]);
    const w = connect(7);
    await settle();
    // Until some of the job's tasks are timed, a worker gets 2 per thread (see holdLimit).
    expect(w.tasks()).toHaveLength(2);
    answer(w.session, w.tasks().map(ok));
    await settle();
    // Its window grew by 3 per task it answered, to 8: credit (7) binds.
    expect(w.tasks()).toHaveLength(2 + 7);
    expect(w.frames.filter((f) => f.type === 'job')).toHaveLength(1);
    answer(w.session, w.tasks().slice(2, 3).map(ok));
    await settle();
    // Window 11 now, holding 6: credit (1 returned) binds.
    expect(w.tasks()).toHaveLength(2 + 7 + 1);
    env.scheduler.dispatcher.handle(w.session, { type: 'credit', slots: 10 });
    await settle();
    expect(w.tasks()).toHaveLength(2 + 7 + 1 + 4); // window 11 binds, not credit (10)
    expect(w.frames.filter((f) => f.type === 'job')).toHaveLength(1); // program travels once
  });

  it('spreads the first tasks of a job, and slow tasks, across workers (holdLimit)', async () => {
    const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(100).keys()]);
    const greedy = connect(1000);
    await settle();
    expect(greedy.tasks()).toHaveLength(2); // untimed: the rest stays for other workers
    const other = connect(1000);
    await settle();
    expect(other.tasks()).toHaveLength(2);
    // Tasks of 100 ms: a 1-thread worker holds ~250 ms of them, 3.
    answer(
      greedy.session,
      greedy.tasks().map((t) => ({ ...ok(t), ms: 100 })),
    );
    await settle();
    expect(greedy.tasks()).toHaveLength(2 + 3);
    expect(holdLimit(env.scheduler.job(admin, job.id), 4)).toBe(4 * 3);
  });

  it('serves higher priority first and shares equal priorities round-robin', async () => {
    const low = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      priority: 0,
    });
    const a = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      priority: 5,
    });
    const b = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      priority: 5,
    });
    for (const job of [low, a, b])
      await env.scheduler.submit(admin, job.id, 'b', [...Array(2000).keys()]);
    await timeFirstTasks(a.id, b.id);
    const w = connect(2000);
    const perJob = new Map<string, number>();
    let answered = 0;
    // The worker answers everything it gets; while a and b have tasks, it never gets low's.
    for (let round = 0; round < 50; round++) {
      await settle();
      const fresh = w.tasks().slice(answered);
      answered += fresh.length;
      for (const t of fresh) perJob.set(t.jobId, (perJob.get(t.jobId) ?? 0) + 1);
      if ((perJob.get(a.id) ?? 0) + (perJob.get(b.id) ?? 0) < 3996) {
        expect(perJob.get(low.id)).toBeUndefined();
        // Round-robin: neither of the equal priorities runs ahead of the other by much.
        expect(Math.abs((perJob.get(a.id) ?? 0) - (perJob.get(b.id) ?? 0))).toBeLessThan(1000);
      }
      answer(w.session, fresh.map(ok));
    }
    expect(perJob.get(a.id)).toBe(1998);
    expect(perJob.get(b.id)).toBe(1998);
    expect(perJob.get(low.id)).toBeGreaterThan(0);
  });

  it('settles each task once: a late duplicate outcome is dropped and counted', async () => {
    const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
    await env.scheduler.submit(admin, job.id, 'b1', [1]);
    await env.scheduler.closeJob(admin, job.id);
    const w = connect(1);
    await settle();
    const outcome: WorkerOutcome = { jobId: job.id, index: 0, ms: 1, ok: true, value: 1 };
    answer(w.session, [outcome]);
    answer(w.session, [outcome]);
    await settle();
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({
      finished: 1,
      failed: 0,
      state: 'done',
    });
    expect(env.scheduler.stats.duplicates).toBe(1);
  });

  it('requeues lost tasks and settles them as `lost` after maxAttempts', async () => {
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      maxAttempts: 2,
    });
    await env.scheduler.submit(admin, job.id, 'b1', ['x']);
    await env.scheduler.closeJob(admin, job.id);
    for (let attempt = 0; attempt < 2; attempt++) {
      const w = connect(1);
      await settle();
      expect(w.tasks()).toHaveLength(1);
      env.scheduler.dispatcher.disconnect(w.session);
    }
    await settle();
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ state: 'done', failed: 1 });
    const [row] = await env.store.readOutcomes(job.id, 0, 'errors', 10);
    expect(JSON.parse(carriedText(row!.payload))).toMatchObject({
      type: 'lost',
      name: 'LostError',
    });
  });

  it('a worker-reported timeout counts as an attempt; the last one settles as `timeout`', async () => {
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(){for(;;){}}',
      maxAttempts: 2,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [0]);
    await env.scheduler.closeJob(admin, job.id);
    const w = connect(5);
    const timedOut = {
      name: 'TimeoutError',
      message: 'Run did not finish within 1000 ms',
      stack: '',
      timedOut: true,
    };
    await settle();
    answer(w.session, [{ jobId: job.id, index: 0, ms: 1000, ok: false, error: timedOut }]);
    await settle();
    expect(w.tasks()).toHaveLength(2); // dispatched again
    answer(w.session, [{ jobId: job.id, index: 0, ms: 1000, ok: false, error: timedOut }]);
    await settle();
    const [row] = await env.store.readOutcomes(job.id, 0, 'errors', 10);
    expect(JSON.parse(carriedText(row!.payload))).toMatchObject({
      type: 'timeout',
      name: 'TimeoutError',
    });
  });

  it('retryErrors: a task that always throws runs exactly 1 + n times, each after its backoff, without delaying the others (fake clock)', async () => {
    const clock = new FakeClock();
    await reopen({ clock, random: seededRandom(7) });
    const draws = seededRandom(7); // the same draws, to know the delays the scheduler must choose
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      retryErrors: 2,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(10).keys()]);
    await env.scheduler.closeJob(admin, job.id);
    const w = connect(100);
    let answered = 0;
    let poisonRuns = 0;
    const answerAll = async () => {
      await settle();
      const fresh = w.tasks().slice(answered);
      answered += fresh.length;
      answer(
        w.session,
        fresh.map((t) =>
          t.index === 0
            ? (poisonRuns++,
              {
                jobId: t.jobId,
                index: 0,
                ms: 1,
                ok: false as const,
                error: { name: 'Error', message: 'poison', stack: 'at Run' },
              })
            : { jobId: t.jobId, index: t.index, ms: 1, ok: true as const, value: t.input },
        ),
      );
      await settle();
    };
    // Not held behind the poison task's backoff: the others settle with no time passing.
    for (let i = 0; i < 5 && env.scheduler.job(admin, job.id).info().finished < 9; i++) {
      await answerAll();
    }
    expect(env.scheduler.job(admin, job.id).info().finished).toBe(9);
    for (const retry of [0, 1]) {
      const delay = retryDelayMs(retry, draws());
      expect(clock.pendingTimeouts()).toEqual([delay]);
      clock.advance(Math.floor(delay) - 1);
      await settle();
      expect(w.tasks()).toHaveLength(answered); // not yet dispatched again
      clock.advance(2);
      await answerAll();
      expect(poisonRuns).toBe(retry + 2);
    }
    expect(clock.pendingTimeouts()).toEqual([]); // the 3rd error is final
    expect(env.scheduler.job(admin, job.id).info().state).toBe('done');
    const [row] = await env.store.readOutcomes(job.id, 0, 'errors', 10);
    expect(JSON.parse(carriedText(row!.payload))).toMatchObject({
      message: 'poison',
      type: 'program',
    });
  });

  it('retry backoff on the clock: exponential from 100 ms, jittered ×0.5–1.5 by the random source, capped at 30 s', async () => {
    const clock = new FakeClock();
    await reopen({ clock, random: seededRandom(42) });
    const draws = seededRandom(42);
    const retries = 12;
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      retryErrors: retries,
    });
    await env.scheduler.submit(admin, job.id, 'b1', ['x']);
    await env.scheduler.closeJob(admin, job.id);
    const w = connect(10);
    const chosen: number[] = [];
    for (let n = 0; n < retries; n++) {
      await settle();
      const [task] = w.tasks().slice(n);
      expect(task?.index).toBe(0);
      answer(w.session, [
        {
          jobId: job.id,
          index: 0,
          ms: 1,
          ok: false,
          error: { name: 'E', message: 'x', stack: '' },
        },
      ]);
      const [delay] = clock.pendingTimeouts();
      chosen.push(delay!);
      clock.advance(delay!);
    }
    const expected = chosen.map((_, n) => Math.min(30_000, 100 * 2 ** n) * (0.5 + draws()));
    expect(chosen).toEqual(expected);
    // Exponential below the cap, each within ×0.5–1.5 of its base; past the cap, within 15–45 s.
    chosen.forEach((delay, n) => {
      const base = Math.min(30_000, 100 * 2 ** n);
      expect(delay).toBeGreaterThanOrEqual(base * 0.5);
      expect(delay).toBeLessThan(base * 1.5);
    });
    expect(Math.max(...chosen)).toBeLessThan(45_000);
    expect(new Set(chosen.map((d, n) => d / Math.min(30_000, 100 * 2 ** n))).size).toBe(retries); // jittered
  });

  it('redundancy 2 with one liar among honest workers: every accepted result is right, the liar is excluded', async () => {
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      redundancy: 2,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(200).keys()]);
    await env.scheduler.closeJob(admin, job.id);
    const honest = [connect(20), connect(20), connect(20)];
    const liar = connect(20);
    const answeredBy = new Map<WorkerSession, number>();
    for (
      let round = 0;
      round < 500 && env.scheduler.job(admin, job.id).info().state !== 'done';
      round++
    ) {
      await settle();
      for (const w of [...honest, liar]) {
        const fresh = w.tasks().slice(answeredBy.get(w.session) ?? 0);
        answeredBy.set(w.session, w.tasks().length);
        const lie = w === liar;
        answer(
          w.session,
          fresh.map((t) => ({
            jobId: t.jobId,
            index: t.index,
            ms: 1,
            ok: true,
            value: (t.input as number) + (lie ? 1000 : 0),
          })),
        );
      }
    }
    const info = env.scheduler.job(admin, job.id).info();
    expect(info).toMatchObject({ state: 'done', finished: 200, failed: 0 });
    expect(info.disagreements).toBeGreaterThan(0);
    await settle();
    const rows = await env.store.readOutcomes(job.id, 0, 'all', 1000);
    expect(rows).toHaveLength(200);

    expect(rows.every((r) => JSON.parse(carriedText(r.payload)) === r.index)).toBe(true);
    expect(liar.session.excluded).toBe(true);
    expect(honest.every((w) => !w.session.excluded)).toBe(true);
    // Each task ran on at least two distinct workers.
    const runs = new Map<number, Set<WorkerSession>>();
    for (const w of [...honest, liar])
      for (const t of w.tasks())
        (runs.get(t.index) ?? runs.set(t.index, new Set()).get(t.index)!).add(w.session);
    expect([...runs.values()].every((s) => s.size >= 2)).toBe(true);
  });

  it('redundancy: replicas that never agree settle as a validation error after maxReplicas', async () => {
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      redundancy: 2,
      maxReplicas: 3,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [7]);
    await env.scheduler.closeJob(admin, job.id);
    const workers = [connect(5), connect(5), connect(5), connect(5)];
    const answered = new Set<(typeof workers)[number]>();
    for (
      let round = 0;
      round < 20 && env.scheduler.job(admin, job.id).info().state !== 'done';
      round++
    ) {
      await settle();
      workers.forEach((w, i) => {
        // Each worker answers once, each with a different value: no two ever agree.
        if (answered.has(w) || w.tasks().length === 0) return;
        answered.add(w);
        const mine = w.tasks();
        answer(
          w.session,
          mine.map((t) => ({ jobId: t.jobId, index: t.index, ms: 1, ok: true, value: i })),
        );
      });
    }
    await settle();
    const [row] = await env.store.readOutcomes(job.id, 0, 'errors', 10);
    expect(JSON.parse(carriedText(row!.payload))).toMatchObject({
      type: 'validation',
      name: 'ValidationError',
    });

    expect(workers.filter((w) => w.tasks().length > 0)).toHaveLength(3);
  });

  it('closes a worker that holds tasks and returns nothing for longer than the timeout', async () => {
    const job = await withFakeClock({});
    await env.scheduler.submit(admin, job.id, 'b1', [1]);
    const w = connect(1);
    await settle();
    expect(w.tasks()).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    expect(w.link.close).not.toHaveBeenCalled();
    vi.advanceTimersByTime(10_000);
    expect(w.link.close).toHaveBeenCalledWith(4002, expect.stringMatching(/No task finished/));
  });

  it('takes back a task a worker swallowed while answering later ones', async () => {
    const job = await withFakeClock({});
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(10).keys()]);
    await env.scheduler.closeJob(admin, job.id);
    const w = connect(5);
    let answered = 0;
    const answerAllBut = async (skip: number) => {
      for (let round = 0; round < 5; round++) {
        await settle();
        const fresh = w.tasks().slice(answered);
        answered += fresh.length;
        const items = fresh.filter((t) => t.index !== skip);
        if (items.length)
          answer(
            w.session,
            items.map((t) => ({ jobId: t.jobId, index: t.index, ms: 1, ok: true, value: t.input })),
          );
      }
    };
    await answerAllBut(0);
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ finished: 9, inFlight: 1 });
    vi.advanceTimersByTime(10_000);
    expect(env.scheduler.job(admin, job.id).info().inFlight).toBe(1); // not before timeout + grace
    vi.advanceTimersByTime(10_000);
    await answerAllBut(-1); // the swallowed task was dispatched again; this time it is answered
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ state: 'done', finished: 10 });
    expect(w.link.close).not.toHaveBeenCalled();
  });

  it('takes back a replica a worker swallowed while answering later ones (redundancy)', async () => {
    const job = await withFakeClock({ redundancy: 2 });
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(10).keys()]);
    await env.scheduler.closeJob(admin, job.id);
    const [a, b] = [connect(5), connect(5)];
    const seen = new Map<WorkerSession, number>();
    // Each worker answers what it was sent; `a` never answers task 0 (unless told to).
    const round = async (swallow: boolean) => {
      for (let i = 0; i < 10; i++) {
        await settle();
        for (const w of [a, b]) {
          const fresh = w.tasks().slice(seen.get(w.session) ?? 0);
          seen.set(w.session, w.tasks().length);
          const items = fresh.filter((t) => !(swallow && w === a && t.index === 0)).map(ok);
          if (items.length) answer(w.session, items);
        }
      }
    };
    await round(true);
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ finished: 9, inFlight: 1 });
    vi.advanceTimersByTime(10_000);
    expect(env.scheduler.job(admin, job.id).info().inFlight).toBe(1); // not before timeout + grace
    vi.advanceTimersByTime(10_000);
    await round(false); // the replica went back to the queue; this time it is answered
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ state: 'done', finished: 10 });
    expect(a.link.close).not.toHaveBeenCalled();
    expect([a.session.inFlight, b.session.inFlight]).toEqual([0, 0]);
  });

  it('cancelling a redundancy job frees the replicas its workers hold', async () => {
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      redundancy: 2,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [1, 2, 3]);
    const [a, b] = [connect(5), connect(5)];
    await settle();
    expect(a.session.inFlight + b.session.inFlight).toBeGreaterThan(0);
    await env.scheduler.cancelJob(admin, job.id);
    expect([a.session.inFlight, b.session.inFlight]).toEqual([0, 0]);
    expect(a.session.leases.grants.size + b.session.leases.grants.size).toBe(0);
  });

  it("keeps each job's throughput series while it runs, for dashboards opened later", async () => {
    const job = await withFakeClock({});
    await env.scheduler.submit(admin, job.id, 'b1', [...Array(6).keys()]);
    await env.scheduler.closeJob(admin, job.id);
    const w = connect(10);
    for (let second = 0; second < 3; second++) {
      await settle();
      answer(
        w.session,
        w
          .tasks()
          .slice(second * 2, second * 2 + 2)
          .map(ok),
      );
      await settle();
      vi.advanceTimersByTime(1000);
    }
    const runtime = env.scheduler.job(admin, job.id);
    expect(runtime.record.state).toBe('done');
    vi.advanceTimersByTime(5000); // a finished job's series stops growing
    const series = env.scheduler.statsCollector.history(runtime).job ?? [];
    expect(series.map((p) => p.tasksPerSecond)).toEqual([2, 2, 2]);
    expect(series[1]!.at - series[0]!.at).toBe(1000);
    expect(env.scheduler.statsCollector.history().job).toBeUndefined();
  });

  it("a task's failed attempts and error retries survive a server restart", async () => {
    const job = await env.scheduler.createJob(admin, {
      program: 'function Run(d){return d}',
      maxAttempts: 2,
      retryErrors: 1,
    });
    await env.scheduler.submit(admin, job.id, 'b1', [0, 1]);
    await env.scheduler.closeJob(admin, job.id);
    const before = connect(2);
    await settle();
    expect(before.tasks()).toHaveLength(2);
    // Task 1's Run throws once (a retry is granted); then the worker vanishes holding task 0.
    answer(before.session, [
      {
        jobId: job.id,
        index: 1,
        ms: 1,
        ok: false,
        error: { name: 'E', message: 'boom', stack: '' },
      },
    ]);
    env.scheduler.dispatcher.disconnect(before.session);
    await settle();
    // The server restarts on the same data; each task has one try left, no more.
    await reopen();
    const after = connect(1);
    await settle();
    expect(after.tasks().map((t) => t.index)).toEqual([0]);
    // Lost again, alone on its tab: task 0 is out of attempts.
    env.scheduler.dispatcher.disconnect(after.session);
    const late = connect(2);
    await settle();
    expect(late.tasks().map((t) => t.index)).toEqual([1]);
    // Task 1 throws again: its one retry was used before the restart.
    answer(
      late.session,
      late.tasks().map((t) => ({
        jobId: t.jobId,
        index: t.index,
        ms: 1,
        ok: false,
        error: { name: 'E', message: 'boom again', stack: '' },
      })),
    );
    await settle();
    const errors = await env.store.readOutcomes(job.id, 0, 'errors', 10);
    const byIndex = new Map(
      errors.map((e) => [e.index, JSON.parse(carriedText(e.payload)) as { message: string }]),
    );
    expect(byIndex.get(0)?.message).toMatch(/crashed or lost its tab 2 time\(s\) \(limit 2\)/);
    expect(byIndex.get(1)?.message).toBe('boom again');
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({ state: 'done', failed: 2 });
  });

  it('pages a large job in from the store instead of holding it in memory', async () => {
    const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
    for (let b = 0; b < 5; b++) {
      await env.scheduler.submit(
        admin,
        job.id,
        `b${b}`,
        Array.from({ length: 5000 }, (_, i) => b * 5000 + i),
      );
    }
    const runtime = env.scheduler.job(admin, job.id);
    expect(runtime.queue!.size).toBeLessThanOrEqual(5000);
    await timeFirstTasks(job.id); // settles tasks 0 and 1
    const w = connect(10_000);
    let answered = 0;
    for (let i = 0; i < 200 && w.tasks().length < 24_998; i++) {
      await settle();
      expect(runtime.queue!.size).toBeLessThanOrEqual(5000);
      const fresh = w.tasks().slice(answered);
      answered += fresh.length;
      answer(w.session, fresh.map(ok));
    }
    const indexes = w.tasks().map((t) => t.index);
    expect(indexes).toHaveLength(24_998);
    expect(new Set(indexes).size).toBe(24_998);
    expect(indexes.slice(0, 3)).toEqual([2, 3, 4]);
  });

  it('recovers after a restart: settled outcomes stay, unsettled tasks are queued again', async () => {
    const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
    await env.scheduler.submit(admin, job.id, 'b1', [10, 11, 12]);
    await env.scheduler.closeJob(admin, job.id);
    const w = connect(3);
    await settle();
    answer(w.session, [{ jobId: job.id, index: 1, ms: 1, ok: true, value: 11 }]);
    await settle();
    await restart();
    expect(env.scheduler.job(admin, job.id).info()).toMatchObject({
      finished: 1,
      total: 3,
      state: 'closed',
    });
    const again = connect(10);
    await settle();
    expect(again.tasks().map((t) => t.index)).toEqual([0, 2]);
  });

  it('treats a retried submission batch id as the same batch', async () => {
    const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
    const first = env.scheduler.submit(admin, job.id, 'same', [1, 2]);
    const concurrent = env.scheduler.submit(admin, job.id, 'same', [1, 2]);
    expect(await first).toEqual(await concurrent);
    expect(await env.scheduler.submit(admin, job.id, 'same', [1, 2])).toEqual({
      firstIndex: 0,
      count: 2,
    });
    expect(env.scheduler.job(admin, job.id).info().total).toBe(2);
  });
});

/**
 * Issue #5, scenario 6: 200 simulated workers connecting and dropping at random for 60 s while
 * three jobs run: every task settles exactly once. Takes about a minute by design.
 */
import { describe, expect, it } from 'vitest';
import type { TaskOutcome } from '@tabgrid/sdk';
import { Fleet } from './fleet.js';
import { exactlyOnceReport } from '@tabgrid/server/testing';
import { serverPerTest } from '@tabgrid/server/testing/vitest';

/** A server per test; each test's fleet is adopted by it, so it stops before the server closes. */
const env = serverPerTest();
let fleet: Fleet | undefined;

const WORKERS = 200;
const TASKS_PER_JOB = 30_000;
const STORM_MS = 60_000;

/** Three jobs, one of them async, each with its own check of the value. */
const JOBS = [
  { program: 'function Run(d) { return d * 2 }', expected: (i: number) => i * 2 },
  {
    program: 'async function Run(d, a) { await null; return d + a.half }',
    args: { half: 0.5 },
    expected: (i: number) => i + 0.5,
  },
  {
    program: 'var Run = (d) => ({ s: String(d), odd: d % 2 === 1 })',
    expected: (i: number) => ({ s: String(i), odd: i % 2 === 1 }),
  },
];

describe('a reconnect storm over 200 workers', () => {
  it(
    'settles every task of every job exactly once, with the right value',
    { timeout: 120_000 },
    async () => {
      // 200 single-thread workers at ~130 ms a task: ~1,500 tasks/s, so the 90,000 tasks
      // keep the fleet busy for about as long as the storm lasts.
      fleet = env.adopt(
        new Fleet({
          url: env.wsUrl,
          workers: WORKERS,
          threads: 1,
          credit: 2,
          behavior: { delayMs: [60, 200] },
        }),
      );
      await fleet.start();
      const started = Date.now();
      // Each worker drops about every 10 s, mostly abruptly, and is back within half a second.
      const storm = fleet.storm({
        durationMs: STORM_MS,
        dropRate: 0.1,
        reconnectAfterMs: [50, 500],
        mode: ['terminate', 'terminate', 'close', 'handBack'],
      });

      const runs = JOBS.map(async ({ program, args, expected }) => {
        const job = await env.tg.createJob({ program, args, name: 'storm' });
        const outcomes: TaskOutcome[] = [];
        function* inputs() {
          for (let i = 0; i < TASKS_PER_JOB; i++) yield i;
        }
        for await (const o of job.run(inputs())) outcomes.push(o);
        return { job, outcomes, expected, doneAfterMs: Date.now() - started };
      });
      const results = await Promise.all(runs);
      const report = await storm.done;
      const stats = fleet.stats();
      console.log(
        `storm: ${report.drops} drops in ${report.durationMs} ms; jobs done after ${results
          .map((r) => r.doneAfterMs)
          .join(', ')} ms; errors ${results
          .map((r) => r.outcomes.filter((o) => !o.ok).length)
          .join(', ')}; fleet ${JSON.stringify(stats)}`,
      );

      for (const { job, outcomes, expected } of results) {
        const check = exactlyOnceReport(TASKS_PER_JOB, outcomes, expected);
        expect(check.duplicates).toEqual([]);
        expect(check.missing).toEqual([]);
        expect(check.wrong).toEqual([]);
        // A task can only fail by losing its worker maxAttempts (3) times in a row: rare.
        expect(check.errors.every((e) => e.type === 'lost')).toBe(true);
        expect(check.errors.length).toBeLessThan(TASKS_PER_JOB / 100);
        const info = await job.status();
        expect(info.state).toBe('done');
        expect(info.finished + info.failed).toBe(TASKS_PER_JOB);
        expect(info.failed).toBe(check.errors.length);
      }
      // The storm raged through the run: ~0.1 drops/s per worker for 60 s.
      expect(report.drops).toBeGreaterThan(WORKERS * 0.1 * (STORM_MS / 1000) * 0.7);
      expect(stats.reconnects).toBeGreaterThan(report.drops * 0.9);
      expect(stats.lost + stats.released).toBeGreaterThan(0);
      expect(Math.min(...results.map((r) => r.doneAfterMs))).toBeGreaterThan(STORM_MS * 0.75);
    },
  );
});

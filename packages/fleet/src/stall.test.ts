/**
 * Silent workers against the server's two watchdogs. A hung worker (answers pings, not tasks)
 * is closed with 4002 once it returns nothing for the longest job timeout + 15 s; a frozen one
 * (answers nothing) is cut by the heartbeat within about 10 s. Either way its tasks go elsewhere
 * and the fleet worker reconnects by itself. Takes about 27 s (the server's grace periods).
 */
import { describe, expect, it } from 'vitest';
import { WorkerCloseCode } from '@tabgrid/protocol/worker';
import type { TaskOutcome } from '@tabgrid/sdk';
import { Fleet } from './fleet.js';
import type { SimWorkerEvent } from './sim-worker.js';
import { assertExactlyOnce, until } from '@tabgrid/server/testing';
import { serverPerTest } from '@tabgrid/server/testing/vitest';

/** A server per test; each test's fleet is adopted by it, so it stops before the server closes. */
const env = serverPerTest();
let fleet: Fleet | undefined;

describe('a hung worker', () => {
  it(
    'is closed by the server with 4002 and reconnects; its tasks finish elsewhere',
    {
      timeout: 40_000,
    },
    async () => {
      const closes: Extract<SimWorkerEvent, { type: 'closed' }>[] = [];
      fleet = env.adopt(
        new Fleet({
          url: env.wsUrl,
          workers: 2,
          credit: 10,
          validateFrames: true,
          behavior: { reconnectAfterMs: 50 },
          onEvent: (event) => {
            if (event.type === 'closed') closes.push(event);
          },
        }),
      );
      const [hanger, honest] = fleet.workers as [Fleet['workers'][0], Fleet['workers'][0]];
      hanger.behave({ hang: true });
      await fleet.start();
      const job = await env.tg.createJob({
        program: 'function Run(d) { return -d }',
        timeoutMs: 1000,
      });
      const outcomes: TaskOutcome[] = [];
      const consuming = (async () => {
        for await (const o of job.run(Array.from({ length: 100 }, (_, i) => i))) outcomes.push(o);
      })();
      // It holds its first window (2 per thread), not its credit: it never answered anything.
      await until(() => hanger.held === 2, { timeoutMs: 5000, what: 'hanger holds its window' });
      const heldSince = Date.now();
      await until(() => closes.length > 0, { timeoutMs: 25_000, what: 'stall close' });
      const waited = Date.now() - heldSince;
      expect(closes[0]).toMatchObject({
        worker: hanger,
        cause: 'server',
        code: WorkerCloseCode.TIMEOUT,
      });
      expect(closes[0]!.held).toHaveLength(2);
      // timeoutMs (1 s) + the server's 15 s grace, checked every second.
      expect(waited).toBeGreaterThan(15_000);
      // Every task ends up done by the honest worker; the hanger is back (and hangs again).
      hanger.behave({ hang: false });
      await consuming;
      assertExactlyOnce(100, outcomes, { expected: (i) => -i });
      await until(() => hanger.state === 'ready', { timeoutMs: 2000, what: 'hanger reconnected' });
      expect(hanger.stats.connects).toBe(2);
      expect(honest.stats.tasksDone).toBeGreaterThanOrEqual(90);
    },
  );

  it(
    'frozen (no pongs, no frames) is cut by the heartbeat; it reconnects once thawed',
    {
      timeout: 30_000,
    },
    async () => {
      const closes: Extract<SimWorkerEvent, { type: 'closed' }>[] = [];
      fleet = env.adopt(
        new Fleet({
          url: env.wsUrl,
          workers: 2,
          credit: 10,
          validateFrames: true,
          behavior: { delayMs: 5, reconnectAfterMs: 50 },
          onEvent: (event) => {
            if (event.type === 'closed') closes.push(event);
          },
        }),
      );
      const [sleeper, honest] = fleet.workers as [Fleet['workers'][0], Fleet['workers'][0]];
      await fleet.start();
      const job = await env.tg.createJob({ program: 'function Run(d) { return d + 0.25 }' });
      const outcomes: TaskOutcome[] = [];
      const consuming = (async () => {
        for await (const o of job.run(Array.from({ length: 1000 }, (_, i) => i))) outcomes.push(o);
      })();
      await until(() => sleeper.held === 10, { timeoutMs: 5000, what: 'sleeper busy' });
      sleeper.behave({ freeze: true });
      const frozenAt = Date.now();
      const sentWhenFrozen = sleeper.stats.framesOut;
      await until(() => closes.length > 0, { timeoutMs: 15_000, what: 'heartbeat cut' });
      // The heartbeat pings every 5 s and cuts a connection that stayed silent a whole period.
      expect(Date.now() - frozenAt).toBeLessThan(12_000);
      expect(closes[0]).toMatchObject({ worker: sleeper, cause: 'error', code: 1006 });
      expect(closes[0]!.held.length).toBeGreaterThan(0);
      expect(sleeper.stats.framesOut).toBe(sentWhenFrozen);
      // Asleep, it does not come back by itself...
      await new Promise((r) => setTimeout(r, 300));
      expect(sleeper.state).toBe('waiting');
      // ...until it wakes up.
      sleeper.behave({ freeze: false });
      await until(() => sleeper.state === 'ready', { timeoutMs: 5000, what: 'sleeper back' });
      await consuming;
      assertExactlyOnce(1000, outcomes, { expected: (i) => i + 0.25 });
      expect(honest.stats.tasksDone).toBeGreaterThan(0);
    },
  );
});

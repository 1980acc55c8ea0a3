/**
 * Issue #5, scenario 3: the SDK's connection is dropped several times while a 20,000-task job
 * runs on the fleet (during submission and while results stream): no loss, no duplicate.
 */
import { describe, expect, it } from 'vitest';
import type { TaskOutcome } from '@tabgrid/sdk';
import { Fleet } from './fleet.js';
import { assertExactlyOnce } from '@tabgrid/server/testing';
import { serverPerTest } from '@tabgrid/server/testing/vitest';

/** A server per test; each test's fleet is adopted by it, so it stops before the server closes. */
const env = serverPerTest();
let fleet: Fleet | undefined;

const TOTAL = 20_000;

describe("the SDK's connection dropped mid-stream", () => {
  it('loses nothing and duplicates nothing across several drops', { timeout: 60_000 }, async () => {
    // About 3,000 tasks/s: the job outlasts the drops and the SDK's reconnections.
    fleet = env.adopt(
      new Fleet({
        url: env.wsUrl,
        workers: 16,
        threads: 2,
        credit: 16,
        behavior: { delayMs: [5, 15] },
      }),
    );
    await fleet.start();
    const { io } = env.server;
    const drops: { at: number; how: string; fleetDone: number }[] = [];
    /** Seen outcome counts at which the server cuts the SDK off, two ways by turns. */
    const dropAt = [1, 3_000, 8_000, 13_000];
    const drop = (at: number): void => {
      const fleetDone = fleet!.stats().tasksDone;
      if (drops.length % 2 === 0) {
        // A server-side disconnect: socket.io does not reconnect by itself; the SDK does.
        io.disconnectSockets(true);
        drops.push({ at, how: 'disconnectSockets', fleetDone });
      } else {
        // The transport vanishes under socket.io, as on a network failure.
        for (const socket of io.sockets.sockets.values()) socket.conn.close();
        drops.push({ at, how: 'transport close', fleetDone });
      }
    };

    const job = await env.tg.createJob<number>({
      program: 'function Run(d) { return d * 3 + 1 }',
      maxAttempts: 10,
    });
    const outcomes: TaskOutcome<number>[] = [];
    function* inputs() {
      for (let i = 0; i < TOTAL; i++) yield i;
    }
    for await (const o of job.run(inputs())) {
      outcomes.push(o);
      if (outcomes.length === dropAt[drops.length]) drop(outcomes.length);
    }

    expect(drops.map((d) => d.at)).toEqual(dropAt);
    // Every index once, right, no failure; each settled outcome has its own seq: no seq twice.
    assertExactlyOnce(TOTAL, outcomes, { expected: (i) => i * 3 + 1 });
    expect(outcomes).toHaveLength(TOTAL);
    expect(new Set(outcomes.map((o) => o.seq)).size).toBe(TOTAL);
    const info = await job.status();
    expect(info).toMatchObject({ state: 'done', total: TOTAL, finished: TOTAL, failed: 0 });
    // The job really was still running when the last drop hit.
    expect(drops.at(-1)!.fleetDone).toBeLessThan(TOTAL);
  });
});

/**
 * Issue #5, scenario 5: with `redundancy: 2` and one lying worker among honest ones, every
 * accepted result is correct and the liar is excluded.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Fleet } from './fleet.js';
import { startServer, type TestServer } from './testing/test-server.js';

let env: TestServer;
let fleet: Fleet | undefined;

beforeEach(async () => {
  env = await startServer();
});

afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
  await env.close();
});

it('redundancy 2 with one liar among honest workers: every accepted result is right, the liar is excluded', async () => {
  fleet = new Fleet({ url: env.wsUrl, workers: 4, credit: 16, behavior: { delayMs: [0, 2] } });
  const liar = fleet.workers[0]!;
  liar.behave({ wrongResults: true });
  await fleet.start();
  const job = await env.tg.createJob({
    program: 'function Run(d) { return d * 3 }',
    redundancy: 2,
  });
  const total = 600;
  const seen = new Set<number>();
  for await (const out of job.run(Array.from({ length: total }, (_, i) => i))) {
    expect(out.ok, `task ${out.index} settled as an error`).toBe(true);
    if (out.ok) expect(out.value).toBe(out.index * 3);
    expect(seen.has(out.index)).toBe(false);
    seen.add(out.index);
  }
  expect(seen.size).toBe(total);
  const status = await job.status();
  expect(status).toMatchObject({ state: 'done', finished: total, failed: 0, redundancy: 2 });
  expect(status.disagreements).toBeGreaterThan(0);
  const liarSession = env.server.scheduler.workers.get(liar.workerId!);
  expect(liarSession?.excluded).toBe(true);
  const honest = fleet.workers.slice(1).map((w) => env.server.scheduler.workers.get(w.workerId!));
  expect(honest.every((session) => session && !session.excluded)).toBe(true);
  const health = (await (await fetch(`${env.url}/healthz`)).json()) as { excludedWorkers: number };
  expect(health.excludedWorkers).toBe(1);
}, 60_000);

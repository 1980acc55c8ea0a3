/**
 * Issue #5, scenario 5: with `redundancy: 2` and one lying worker among honest ones, every
 * accepted result is correct and the liar is excluded. Issue #11, item 6: replicas of a task go
 * to distinct remote addresses, so one host with two sockets cannot outvote the truth; a lab
 * where every tab shares an address says so with `sameAddressDistinct`.
 */
import { describe, expect, it } from 'vitest';
import type { AppOptions } from '@tabgrid/server/app';
import { Fleet } from './fleet.js';
import { until } from '@tabgrid/server/testing';
import { serversPerTest } from '@tabgrid/server/testing/vitest';

/** Each test starts its server with its own scheduling; the fleet is adopted by it. */
const servers = serversPerTest();

async function liarAmongHonest(
  scheduling: NonNullable<AppOptions['scheduling']>,
  localAddress?: (index: number) => string,
) {
  const env = await servers.start({ scheduling });
  const fleet = env.adopt(
    new Fleet({
      url: env.wsUrl,
      workers: 4,
      credit: 16,
      behavior: { delayMs: [0, 2] },
      ...(localAddress ? { localAddress } : {}),
    }),
  );
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
  return { env, liar, liarSession: liarSession! };
}

describe('redundancy 2 with one liar among honest workers: every accepted result is right, the liar is excluded', () => {
  it('workers on distinct addresses (127.0.0.2-5); the liar stays excluded after reconnecting', async () => {
    const { env, liar, liarSession } = await liarAmongHonest({}, (i) => `127.0.0.${i + 2}`);
    expect(liarSession.identity).toBe('addr:127.0.0.2');
    // Strikes follow the address: a new connection from it is excluded at once.
    liar.kill();
    await liar.start();
    const again = env.server.scheduler.workers.get(liar.workerId!);
    expect(again?.id).not.toBe(liarSession.id);
    expect(again?.excluded).toBe(true);
  }, 60_000);

  it('a lab where every tab shares 127.0.0.1 (sameAddressDistinct)', async () => {
    await liarAmongHonest({ sameAddressDistinct: true });
  }, 60_000);
});

it('two sockets from one address never both hold replicas of one task', async () => {
  const env = await servers.start();
  // Workers 0 and 1 are one attacker's two sockets (127.0.0.2); 2 and 3 are honest hosts.
  const addresses = ['127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
  const fleet = env.adopt(
    new Fleet({
      url: env.wsUrl,
      workers: 4,
      credit: 16,
      behavior: { delayMs: [0, 2] },
      localAddress: (i) => addresses[i],
    }),
  );
  const [a, b] = fleet.workers as [Fleet['workers'][0], Fleet['workers'][0]];
  // The attacker answers the same lie on both sockets: if both held a task's replicas, the lie
  // would be accepted with no disagreement at all.
  a.behave({ wrongResults: { collude: 'attacker' } });
  b.behave({ wrongResults: { collude: 'attacker' } });
  await fleet.start();
  const job = await env.tg.createJob({
    program: 'function Run(d) { return d + 1 }',
    redundancy: 2,
    maxReplicas: 4,
  });
  const runtime = env.server.scheduler.findJob(job.id)!;
  const ids = new Set([a.workerId!, b.workerId!]);
  let overlap = 0;
  const watch = setInterval(() => {
    // Replicas held right now per task: never two of them by the attacker's sockets.
    for (let index = 0; index < 100; index++) {
      let held = 0;
      for (const id of ids) if (runtime.quorum?.holds(index, id)) held++;
      if (held > 1) overlap++;
    }
  }, 1);
  const results = new Map<number, unknown>();
  for await (const out of job.run(Array.from({ length: 100 }, (_, i) => i))) {
    if (out.ok) results.set(out.index, out.value);
  }
  clearInterval(watch);
  expect(overlap).toBe(0);
  // No lie was accepted: every task settled with the honest hosts' answer.
  expect(results.size).toBe(100);
  for (const [index, value] of results) expect(value).toBe(index + 1);
  const status = await job.status();
  expect(status.disagreements).toBeGreaterThan(0);
  // Both sockets of the attacker share its strikes, so both end up excluded.
  const sessions = [a, b].map((w) => env.server.scheduler.workers.get(w.workerId!));
  await until(() => sessions.every((s) => s?.excluded), {
    timeoutMs: 5000,
    what: 'attacker excluded',
  });
}, 60_000);

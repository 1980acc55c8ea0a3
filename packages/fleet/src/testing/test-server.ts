/**
 * The real Tabgrid server, in-process, on a random port with a temporary data dir: what the
 * fleet's scenario tests run against.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp, type App, type AppOptions } from '@tabgrid/server/app';
import { Tabgrid } from '@tabgrid/sdk';

export const TOKEN = 'fleet-test-token';

export interface TestServer {
  server: App;
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT/ws/worker */
  wsUrl: string;
  /** An SDK client of this server (closed by `close()`). */
  tg: Tabgrid;
  close(): Promise<void>;
}

/** `options.scheduling`, e.g. `{ sameAddressDistinct: true }` for workers that share 127.0.0.1. */
export async function startServer(
  options: Pick<AppOptions, 'scheduling'> = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tabgrid-fleet-'));
  const server = await buildApp({
    dataDir: dir,
    adminToken: TOKEN,
    workerWebDir: dir,
    dashboardDir: dir,
    ...options,
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (server.app.server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const tg = new Tabgrid({ url, token: TOKEN });
  return {
    server,
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws/worker`,
    tg,
    async close() {
      await tg.close();
      await server.app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` holds, polling every 10 ms; throws after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms = 5000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An outcome as `job.run()` yields it, reduced to what the scenarios check. */
export interface Seen {
  index: number;
  ok: boolean;
  value?: unknown;
  error?: { type: string; message: string };
}

/**
 * Checks a job's outcomes: every index in [0, total) exactly once, and each result equal to
 * `expected(index)`. Returns the errors for the caller to judge.
 */
export function checkExactlyOnce(
  outcomes: readonly Seen[],
  total: number,
  expected: (index: number) => unknown,
): {
  duplicates: number[];
  missing: number[];
  wrong: number[];
  errors: { index: number; type: string; message: string }[];
} {
  const seen = new Uint8Array(total);
  const duplicates: number[] = [];
  const wrong: number[] = [];
  const errors: { index: number; type: string; message: string }[] = [];
  for (const o of outcomes) {
    if (o.index < 0 || o.index >= total) {
      wrong.push(o.index);
      continue;
    }
    if (seen[o.index]) duplicates.push(o.index);
    seen[o.index] = 1;
    if (!o.ok)
      errors.push({ index: o.index, type: o.error?.type ?? '?', message: o.error?.message ?? '' });
    else if (JSON.stringify(o.value) !== JSON.stringify(expected(o.index))) wrong.push(o.index);
  }
  const missing: number[] = [];
  for (let i = 0; i < total; i++) if (!seen[i]) missing.push(i);
  return { duplicates, missing, wrong, errors };
}

/**
 * Results the server would refuse (issue #11: it closes a worker socket whose frame breaks
 * WORKER_LIMITS, losing every task of the batch). An honest tab never sends such a frame: the
 * task whose result is over a limit gets a clear error, and its batch-mates go through.
 */
import { expect, test } from '@playwright/test';
import { gridPerTest } from '../support/grid.js';

const grid = gridPerTest();

test('a 200-deep and a 20 MB result fail clearly; the other tasks of the batch succeed, the socket stays open', async ({
  browser,
}) => {
  // A tab of our own, so its sockets are watched from the start. One thread: all ten tasks
  // run in one chunk and travel in the same outcome frames.
  const page = await browser.newPage();
  const opened: string[] = [];
  const closed: string[] = [];
  page.on('websocket', (socket) => {
    opened.push(socket.url());
    socket.on('close', () => closed.push(socket.url()));
  });
  await page.goto(`${grid.url}/?threads=1`);
  await expect(page.getByTestId('connection-state')).toHaveText('connected');
  const job = await grid.tg.createJob({
    program: `function Run(i) {
      if (i === 0) { let v = 0; for (let d = 0; d < 200; d++) v = [v]; return v; }
      if (i === 1) return "x".repeat(20 * 1024 * 1024);
      return i * 2;
    }`,
    name: 'result-limits',
    maxAttempts: 1,
  });
  const outcomes = new Map<number, { ok: boolean; value?: unknown; error?: unknown }>();
  for await (const out of job.run(Array.from({ length: 10 }, (_, i) => i))) {
    outcomes.set(
      out.index,
      out.ok
        ? { ok: true, value: out.value }
        : {
            ok: false,
            error: { type: out.error.type, name: out.error.name, message: out.error.message },
          },
    );
  }
  expect(outcomes.get(0)).toMatchObject({
    ok: false,
    error: {
      type: 'program',
      name: 'ResultTooDeep',
      message: expect.stringMatching(/nested deeper than 100 levels.*flatten it/),
    },
  });
  expect(outcomes.get(1)).toMatchObject({
    ok: false,
    error: {
      type: 'program',
      name: 'ResultTooLarge',
      message: expect.stringMatching(
        /^Run returned 20 MB of JSON; a result may be at most 15\.9 MB/,
      ),
    },
  });
  for (let i = 2; i < 10; i++)
    expect(outcomes.get(i), `task ${i}`).toEqual({ ok: true, value: i * 2 });
  expect((await job.status()).state).toBe('done');
  // The server never closed the tab's socket: still its first connection, still connected.
  expect(opened.filter((url) => url.endsWith('/ws/worker'))).toHaveLength(1);
  expect(closed).toEqual([]);
  await expect(page.getByTestId('connection-state')).toHaveText('connected');
  await page.close();
});

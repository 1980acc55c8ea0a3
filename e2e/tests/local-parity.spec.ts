/**
 * Local runs pass the same behaviour tests as the grid: every shared case of
 * `@tabgrid/sdk/testing` runs on a real server with two Chromium worker tabs (two threads each),
 * and again on local worker threads (`new Tabgrid({ local: { threads: 2 } })`), and both must
 * match the case's expectation (so each other). packages/sdk's local-parity.test.ts runs the
 * local half alone.
 */
import { expect, test } from '@playwright/test';
import { Tabgrid, replayTask, type TaskOutcome } from '@tabgrid/sdk';
import { BEHAVIOUR_CASES, observe } from '@tabgrid/sdk/testing';
import { startGrid, type Grid } from '../support/grid.js';

let grid: Grid;
let local: Tabgrid;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  grid = await startGrid(browser);
  await grid.openTab('?threads=2');
  await grid.openTab('?threads=2');
  local = new Tabgrid({ local: { threads: 2 } });
});

test.afterAll(async () => {
  await local?.close();
  await grid?.stop();
});

for (const c of BEHAVIOUR_CASES) {
  test(`grid and local runs agree: ${c.name}`, async () => {
    const onGrid = await observe(grid.tg, c);
    expect(onGrid).toEqual(c.expected);
    const onThreads = await observe(local, c);
    expect(onThreads).toEqual(onGrid);
  });
}

test('a task that failed in a tab replays locally with the same error and stack line', async () => {
  const job = await grid.tg.createJob({
    program:
      'function Run(d) {\n  if (d === 2) throw new TypeError("odd pixel " + d);\n  return d;\n}',
    name: 'parity: replay',
  });
  const outcomes: TaskOutcome[] = [];
  for await (const outcome of job.run([0, 1, 2, 3])) outcomes.push(outcome);
  const inTab = outcomes.find((o) => o.index === 2);
  if (!inTab || inTab.ok) throw new Error('task 2 should have failed in the tab');
  const replayed = await replayTask(grid.tg, job.id, 2);
  expect(replayed.ok).toBe(false);
  if (replayed.ok) return;
  expect(replayed.error).toMatchObject({
    type: inTab.error.type,
    name: inTab.error.name,
    message: inTab.error.message,
  });
  const frame = (stack: string) => /at Run \(job\.js:\d+/.exec(stack)?.[0];
  expect(frame(replayed.error.stack)).toBe('at Run (job.js:2');
  expect(frame(replayed.error.stack)).toBe(frame(inTab.error.stack));
  expect(await replayTask(grid.tg, job.id, 3)).toMatchObject({ ok: true, value: 3 });
});

/**
 * Local runs pass the same behaviour tests as the grid: every shared case of
 * `@tabgrid/sdk/testing` runs on a real server with two Chromium worker tabs (two threads each),
 * and again on local worker threads (`new Tabgrid({ local: { threads: 2 } })`), and both must
 * match the case's expectation (so each other). packages/sdk's local-parity.test.ts runs the
 * local half alone.
 */
import { expect, test } from '@playwright/test';
import { Tabgrid } from '@tabgrid/sdk';
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

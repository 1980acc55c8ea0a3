/**
 * Say, don't coerce, in real tabs: a result JSON cannot carry faithfully fails its task with the
 * path and what to return instead; `values: 'lossy'` keeps JSON.stringify's conversion; a task
 * of that kind is refused by the SDK before anything is sent.
 */
import { expect, test } from '@playwright/test';
import { ErrorCode } from '@tabgrid/sdk';
import { gridPerTest } from '../support/grid.js';

const grid = gridPerTest();

const program = `function Run(k) {
  if (k === 0) return { when: new Date(0) };
  if (k === 1) return [1, NaN];
  if (k === 2) return { seen: new Map() };
  return k;
}`;

test('a Date, NaN or Map result fails its task saying where; lossy converts as before', async () => {
  await grid.openTab();
  const strict = await grid.tg.createJob({ program, name: 'values-strict', maxAttempts: 1 });
  const failed = new Map<number, { type: string; name: string; message: string }>();
  for await (const out of strict.run([0, 1, 2, 3])) {
    if (!out.ok) failed.set(out.index, out.error);
    else expect(out).toMatchObject({ index: 3, value: 3 });
  }
  expect(failed.get(0)).toMatchObject({
    type: 'program',
    name: 'TypeError',
    message: expect.stringMatching(/^result\.when is a Date: send when\.toISOString\(\)/),
  });
  expect(failed.get(1)?.message).toMatch(/^result\[1\] is NaN/);
  expect(failed.get(2)?.message).toMatch(/^result\.seen is a Map/);

  const lossy = await grid.tg.createJob({ program, name: 'values-lossy', values: 'lossy' });
  expect(await lossy.map([0, 1, 2, 3])).toEqual([
    { when: '1970-01-01T00:00:00.000Z' },
    [1, null],
    { seen: {} },
    3,
  ]);
  const refused = await grid.tg.createJob({ program, name: 'values-refused' });
  await expect(refused.submit([{ at: new Date(0) }])).rejects.toMatchObject({
    code: ErrorCode.UNFAITHFUL_VALUE,
  });
  expect((await refused.status()).total).toBe(0);
});

/**
 * Local runs pass the same behaviour cases as the grid (e2e/tests/local-parity.spec.ts runs
 * these on Chromium tabs): each case's program and tasks on two local worker threads, and the
 * summary of what happened compared with the case's expectation.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tabgrid } from '../client.js';
import { BEHAVIOUR_CASES, observe } from './testing/behaviour-cases.js';

const tg = new Tabgrid({ local: { threads: 2 } });
afterAll(() => tg.close());

describe('local runs behave as the grid', () => {
  for (const c of BEHAVIOUR_CASES) {
    it(
      c.name,
      async () => {
        expect(await observe(tg, c)).toEqual(c.expected);
      },
      30_000,
    );
  }
});

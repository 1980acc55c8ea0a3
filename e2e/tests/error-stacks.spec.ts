import { expect, test } from '@playwright/test';
import type { TaskError } from '@tabgrid/sdk';
import { gridPerTest } from '../support/grid.js';

const grid = gridPerTest();

const HINT = "closures don't travel with the program: pass values in args";

/** Every error of a job run on `inputs`, by task index. */
async function errorsOf(program: string, inputs: unknown[]): Promise<Map<number, TaskError>> {
  await grid.openTab();
  const job = await grid.tg.createJob({ program, name: 'stacks' });
  const submitted = job.submit(inputs).then(() => job.close());
  const errors = new Map<number, TaskError>();
  for await (const e of job.errors()) errors.set(e.index, e);
  await submitted;
  return errors;
}

test("a thrown error's stack names job.js at the program's line, has no data: URL and is under 4 KB", async () => {
  const program = [
    'function Run(k) {',
    '  if (k === 1) return missingScale * 2;',
    '  if (k === 2) throw new Error("\\u20ac".repeat(2 * 1024 * 1024));',
    '  throw new RangeError("bad pixel " + (k + 7));',
    '}',
  ].join('\n');
  const errors = await errorsOf(program, [0, 1, 2]);
  expect([...errors.keys()].sort()).toEqual([0, 1, 2]);

  const thrown = errors.get(0)!;
  expect(thrown.message).toBe('bad pixel 7');
  const lines = thrown.stack.split('\n');
  expect(lines[0]).toBe('RangeError: bad pixel 7');
  expect(lines[1]).toMatch(/^ {4}at Run \(job\.js:4:\d+\)$/);
  // The sandbox's frames (each carrying its ~27 KB data: URL) are gone.
  expect(lines).toHaveLength(2);

  const reference = errors.get(1)!;
  expect(reference.name).toBe('ReferenceError');
  expect(reference.message).toBe(`missingScale is not defined (${HINT})`);
  expect(reference.stack).toMatch(/at Run \(job\.js:2:\d+\)/);

  // Megabytes of message: the stack still fits in 4 KB, and says it was cut.
  const huge = errors.get(2)!;
  expect(huge.stack).toMatch(/… \[message cut\]\n {4}at Run \(job\.js:3:\d+\)$/);

  for (const e of errors.values()) {
    expect(e.stack).not.toContain('data:');
    expect(Buffer.byteLength(e.stack)).toBeLessThanOrEqual(4096);
  }
});

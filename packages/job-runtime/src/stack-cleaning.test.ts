import { afterEach, describe, expect, it } from 'vitest';
import { OUTCOME_LIMITS } from './outcome-limits.js';
import { captureNatives } from './captured-natives.js';
import { ALL_PROTECTIONS } from './protections.js';
import { taskFailures } from './task-failures.js';
import { startThread } from './testing/start-thread.js';

type Failure = { name: string; message: string; stack: string };
const HINT = "closures don't travel with the program: pass values in args";

let thread: ReturnType<typeof startThread> | undefined;
afterEach(() => thread?.close());

async function failuresOf(program: string, inputs: unknown[] = [0]): Promise<Failure[]> {
  thread = startThread();
  thread.send({ type: 'load', jobId: 'j', program, args: null });
  const tasks = inputs.map((input, index) => ({ index, input }));
  thread.send({ type: 'run', chunkId: 1, tasks: JSON.stringify(tasks), flushEach: false });
  const outcomes = (await thread.outcomes(1)) as { ok: boolean; error?: Failure }[];
  return outcomes.map((o) => o.error!);
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('stacks as the user reads them (real V8 stacks from the shipped runtime)', () => {
  it("names the program job.js with the program's own line numbers, and no runtime frame", async () => {
    const [error] = await failuresOf(
      [
        'function Run(input) {',
        '  const pixel = input + 7;',
        '  throw new Error("bad pixel " + pixel);',
        '}',
      ].join('\n'),
    );
    expect(error!.message).toBe('bad pixel 7');
    const lines = error!.stack.split('\n');
    expect(lines[0]).toBe('Error: bad pixel 7');
    expect(lines[1]).toMatch(/^ {4}at Run \(job\.js:3:\d+\)$/);
    // The runtime's frames (runChunk, drain: evalmachine here, a data: URL in a tab) are gone.
    expect(lines).toHaveLength(2);
    expect(error!.stack).not.toMatch(/evalmachine|runChunk|data:/);
  });

  it('keeps native frames between two job frames, and job frames of a load error', async () => {
    const [mapped] = await failuresOf(
      [
        'function pixel(p) {',
        '  throw new RangeError("no " + p);',
        '}',
        'function Run() { return [1].map(pixel); }',
      ].join('\n'),
    );
    const lines = mapped!.stack.split('\n');
    expect(lines[0]).toBe('RangeError: no 1');
    expect(lines[1]).toMatch(/^ {4}at pixel \(job\.js:2:\d+\)$/);
    expect(lines[2]).toMatch(/^ {4}at Array\.map \(<anonymous>\)$/);
    expect(lines[3]).toMatch(/^ {4}at Run \(job\.js:4:\d+\)$/);
    expect(lines).toHaveLength(4);

    // Thrown while the program loads: every task fails with the program's own line.
    const [loading] = await failuresOf('const table = [];\ntable.oops();\nfunction Run() {}');
    expect(loading!.name).toBe('TypeError');
    expect(loading!.stack).toMatch(/job\.js:2:\d+/);
    expect(loading!.stack).not.toMatch(/evalmachine|data:/);
  });

  it('adds the closure hint to a ReferenceError, once, in its message and stack', async () => {
    const [missing, rethrown] = await failuresOf(
      [
        'function Run(k) {',
        '  if (k === 0) return scale * 2;',
        `  throw new ReferenceError("already told (${HINT})");`,
        '}',
      ].join('\n'),
      [0, 1],
    );
    expect(missing!.name).toBe('ReferenceError');
    expect(missing!.message).toBe(`scale is not defined (${HINT})`);
    expect(missing!.stack.split('\n')[0]).toBe(`ReferenceError: scale is not defined (${HINT})`);
    expect(missing!.stack).toMatch(/at Run \(job\.js:2:\d+\)/);
    expect(rethrown!.message.split(HINT)).toHaveLength(2);
    const [other] = await failuresOf('function Run() { null.x; }');
    expect(other!.message).not.toContain(HINT);
  });

  it('cuts a megabytes message and a 100,000-frame stack to 4 KB, saying so', async () => {
    const [huge, deep] = await failuresOf(
      [
        'function down(n) { return n === 0 ? boom() : down(n - 1) + 1; }',
        'function boom() { throw new Error("unused"); }',
        'function Run(k) {',
        '  if (k === 0) throw new Error("\\u20ac".repeat(3 * 1024 * 1024));',
        '  Error.stackTraceLimit = Infinity;',
        '  return down(5000);',
        '}',
      ].join('\n'),
      [0, 1],
    );
    expect(bytes(huge!.stack)).toBeLessThanOrEqual(4096);
    expect(huge!.stack).toMatch(/^Error: €+… \[message cut\]\n {4}at Run \(job\.js:4:\d+\)$/);
    expect(bytes(deep!.stack)).toBeLessThanOrEqual(4096);
    expect(deep!.stack).toMatch(/at boom \(job\.js:2:\d+\)\n {4}at down \(job\.js:1:\d+\)/);
    expect(deep!.stack.endsWith('\n    … [stack cut at 4,096 bytes]')).toBe(true);
  });
});

describe('stack cleaning of a tab’s stack (task-failures.ts)', () => {
  const { describe: describeError } = taskFailures(captureNatives(ALL_PROTECTIONS), OUTCOME_LIMITS);
  // What Chromium writes in a tab: each runtime frame carries the thread's whole data: URL.
  const url = `data:text/javascript,${encodeURIComponent('"use strict";(function threadMain(){})'.repeat(600))}`;
  const tabStack = (...frames: string[]) => {
    const error = new Error('bad pixel 57');
    error.stack = ['Error: bad pixel 57', ...frames].join('\n');
    return error;
  };

  it('drops every frame of the data: URL, keeping the job frames in order', () => {
    const error = tabStack(
      '    at inner (job.js:9:11)',
      '    at new Promise (<anonymous>)',
      '    at Run (job.js:3:5)',
      `    at runChunk (${url}:1:9000)`,
      `    at drain (${url}:1:12000)`,
    );
    expect(error.stack!.length).toBeGreaterThan(27_000);
    expect(describeError(error).stack).toBe(
      [
        'Error: bad pixel 57',
        '    at inner (job.js:9:11)',
        '    at new Promise (<anonymous>)',
        '    at Run (job.js:3:5)',
      ].join('\n'),
    );
  });

  it('keeps native frames above a job frame, none below the last, nor one naming job.js in a data: URL', () => {
    const error = tabStack(
      '    at Array.map (<anonymous>)',
      '    at Run (job.js:3:5)',
      '    at JSON.stringify (<anonymous>)',
      `    at toJson (${url}:1:400)`,
      `    at evil (${url}#job.js:1:1)`,
    );
    expect(describeError(error).stack).toBe(
      'Error: bad pixel 57\n    at Array.map (<anonymous>)\n    at Run (job.js:3:5)',
    );
  });

  it("keeps another engine's job frames and drops its runtime ones", () => {
    const error = new Error('m');
    error.stack = `Run@job.js:3:5\nrunChunk@${url}:1:9000\n`;
    expect(describeError(error).stack).toBe('Run@job.js:3:5');
  });

  it('leaves an error with no stack, and a stack without frames, as they are', () => {
    const bare = new Error('m');
    bare.stack = '';
    expect(describeError(bare).stack).toBe('');
    const custom = new Error('m');
    custom.stack = 'custom: see data:image/png,abc';
    expect(describeError(custom).stack).toBe('custom: see data:image/png,abc');
  });
});

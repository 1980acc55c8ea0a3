import { describe, expect, it } from 'vitest';
import { CLOSURE_HINT } from './job-stacks.js';
import { describe as describeError } from './outcome-items.js';
import { ProgramCache } from './program-cache.js';

/** The failure a simulated worker reports when `program`'s Run throws on `input`. */
function failureOf(program: string, input: unknown = 0) {
  const compiled = new ProgramCache().acquire('j', program, null);
  const run = compiled.run!;
  try {
    run(input, compiled.args);
  } catch (error) {
    return describeError(error);
  }
  throw new Error('Run did not throw');
}

describe('simulated workers tell thrown errors as the worker page does', () => {
  it("names the program job.js at its own line, with none of the fleet's frames", () => {
    const failure = failureOf(
      ['function Run(d) {', '  const p = d + 7;', '  throw new Error("bad pixel " + p);', '}'].join(
        '\n',
      ),
    );
    expect(failure.message).toBe('bad pixel 7');
    expect(failure.stack).toMatch(/^Error: bad pixel 7\n {4}at Run \(job\.js:3:\d+\)$/);
  });

  it('adds the closure hint to a ReferenceError once, and cuts a huge stack to 4 KB', () => {
    const missing = failureOf('function Run() {\n  return scale * 2;\n}');
    expect(missing.message).toBe(`scale is not defined (${CLOSURE_HINT})`);
    expect(missing.stack.split('\n')[0]).toBe(
      `ReferenceError: scale is not defined (${CLOSURE_HINT})`,
    );
    expect(missing.stack).toMatch(/at Run \(job\.js:2:\d+\)/);
    const huge = failureOf('function Run() { throw new Error("m".repeat(4 * 1024 * 1024)); }');
    expect(Buffer.byteLength(huge.stack)).toBeLessThanOrEqual(4096);
    expect(huge.stack).toMatch(/… \[message cut\]\n {4}at Run \(job\.js:1:\d+\)$/);
  });
});

import { describe, expect, it } from 'vitest';
import { checkProgram } from './check-program.js';

describe('checkProgram', () => {
  it('accepts a program the tab threads can compile', () => {
    expect(() => checkProgram('function Run(d, args) { return d * 2 + args.k }')).not.toThrow();
    // A function body, as in the thread: a top-level return is fine there.
    expect(() => checkProgram('const Run = (d) => d;\nreturn Run;')).not.toThrow();
  });

  it('refuses a syntax error with the line of the parser, as job.js:<line> like the stacks', () => {
    expect(() => checkProgram('function Run(d) {\n  return d +\n}')).toThrow(
      /does not parse: SyntaxError.*\(job\.js:3\)/,
    );
    expect(() => checkProgram('function Run(d) {\n  return d;\n}\n\n  }')).toThrow(
      /Unexpected token '}' \(job\.js:5\)/,
    );
  });

  it('refuses sloppy-only programs, as the strict threads would', () => {
    expect(() => checkProgram('function Run(d) { with (d) { return x } }')).toThrow(
      /does not parse: SyntaxError: Strict mode code may not include a with statement/,
    );
    expect(() => checkProgram('function Run() { return 010 }')).toThrow(/Octal literals/);
  });

  it('refuses a program without Run', () => {
    expect(() => checkProgram('function run(d) { return d }')).toThrow(
      /must define a function named Run/,
    );
  });
});

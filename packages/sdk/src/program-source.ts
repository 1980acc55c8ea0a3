/**
 * Turning a program given as a function into the source text a job carries (and a pool's
 * `star()` wrapper around it).
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';

/**
 * A `Run` function sent as the job's program. Only its source travels: it must not use
 * variables from the scope it was written in (closures, imports), since it runs in a
 * volunteer's browser tab. Use the job's `args` for shared data instead.
 */
export type RunFunction<T> = (input: never, args: never) => T | PromiseLike<T>;

/**
 * A pool's program as a function: `Run(input, args)`, or for `star()` a function of the task's
 * elements (`(a, b) => …`, then `args` if the pool has them).
 */
export type PoolFunction<T> = (...params: never[]) => T | PromiseLike<T>;

/** The source of `program` as a function expression; native and bound functions are refused. */
function functionSource(program: (...params: never[]) => unknown): string {
  if (typeof program !== 'function') {
    throw new TabgridError(
      ErrorCode.INVALID_PROGRAM,
      'program must be JavaScript source or a function.',
    );
  }
  const source = Function.prototype.toString.call(program).trim();
  if (/\[native code\]\s*\}$/.test(source)) {
    throw new TabgridError(
      ErrorCode.INVALID_PROGRAM,
      'A native or bound function has no source to send: pass a plain function or source text.',
    );
  }
  if (!/^(async\s*)?(function\b|\(|[\w$]+\s*=>)/.test(source)) {
    return source.replace(/^(async\s+)?/, (prefix) => `${prefix}function `);
  }
  return source;
}

/**
 * The source sent for a program: strings as they are, functions wrapped as
 * `var Run = (<source>);`. Method shorthand (`{ Run(d) {…} }.Run`) is turned into a function
 * expression; native and bound functions are refused (they have no source).
 *
 * @example
 * programSource((d: number) => d * 2); // 'var Run = ((d) => d * 2);'
 */
export function programSource(program: string | PoolFunction<unknown>): string {
  if (typeof program === 'string') return program;
  return `var Run = (${functionSource(program)});`;
}

/**
 * The `star()` form of a program: `Run(input, args)` becomes `run(...input)`, or
 * `run(...input, args)` when the job has `args` (`withArgs`). A string program must define
 * `Run` with `function`, `var` or `let` (the wrapper assigns to it); a task that is not an array
 * fails with a message saying so.
 *
 * @example
 * starProgramSource((a: number, b: number) => a + b, false);
 * // 'var Run = (function (run) { … return run(...input) … })(((a, b) => a + b));'
 */
export function starProgramSource(
  program: string | PoolFunction<unknown>,
  withArgs: boolean,
): string {
  const call = withArgs ? 'run(...input, args)' : 'run(...input)';
  const wrapper =
    'function (run) {\n' +
    '  return function (input, args) {\n' +
    '    if (!Array.isArray(input)) throw new TypeError("star(): each task must be an array of Run\'s arguments, got " + (input === null ? "null" : typeof input));\n' +
    `    return ${call};\n` +
    '  };\n' +
    '}';
  if (typeof program === 'string') return `${program}\n;Run = (${wrapper})(Run);`;
  return `var Run = (${wrapper})((${functionSource(program)}));`;
}

/**
 * A local job's program is refused at creation when the server would refuse it (apps/server
 * core/check-program.ts): a syntax error, with the parser's message and job.js line, or no
 * `Run`. Compiled as the threads compile it — a strict function body taking `args` — never run.
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';

type CompileFunction = (code: string, params: string[], options: { filename: string }) => unknown;

export function checkProgram(program: string): void {
  const vm = process.getBuiltinModule('node:vm') as { compileFunction: CompileFunction };
  try {
    // The directive shares the program's first line, so the parser's line numbers stay right.
    vm.compileFunction(`"use strict";${program}`, ['args'], { filename: 'job.js' });
  } catch (err) {
    const error = err as Error;
    const where = /job\.js:(\d+)/.exec(error.stack ?? '')?.[1];
    throw new TabgridError(
      ErrorCode.INVALID_PROGRAM,
      `The program does not parse: ${error.name}: ${error.message}${where ? ` (job.js:${where})` : ''}. Fix the syntax and create the job again.`,
    );
  }
  if (!/\bRun\b/.test(program)) {
    throw new TabgridError(
      ErrorCode.INVALID_PROGRAM,
      'The program must define a function named Run, e.g. "function Run(input, args) { return input * 2 }".',
    );
  }
}

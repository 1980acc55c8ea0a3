import { compileFunction } from 'node:vm';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';

/**
 * Refuses a program that cannot run: a syntax error (with the parser's message and job.js line) or no
 * `Run` at all. The program is only compiled here, never run: job code is untrusted and runs
 * only in the volunteers' sandboxes. It is compiled as the tab's threads compile it: a strict
 * function body taking `args`, so a sloppy-only program (`with`, `010`) is refused here rather
 * than failing every task on the tabs.
 */
export function checkProgram(program: string): void {
  try {
    // The directive on the program's first line keeps the parser's line numbers right, and the
    // file is named as the tabs name it in stacks (job.js), so a position reads the same.
    compileFunction(`"use strict";${program}`, ['args'], { filename: 'job.js' });
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

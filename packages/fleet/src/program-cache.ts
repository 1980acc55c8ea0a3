import { jobScript } from './job-stacks.js';
import { SIM_CONSOLE, SIM_TABGRID } from './task-api.js';

/** A job's `Run` function. */
export type RunFunction = (input: unknown, args: unknown) => unknown;
/** A job's optional `Setup(args)` and `Teardown()`. */
export type SetupFunction = (args: unknown) => unknown;
export type TeardownFunction = () => unknown;

/** A job's program, compiled: `run` or, if the program did not load, the reason. */
export interface CompiledProgram {
  readonly run: RunFunction | undefined;
  readonly setup?: SetupFunction | undefined;
  readonly teardown?: TeardownFunction | undefined;
  /**
   * The program names `tabgrid` or `console` (or has a Setup or Teardown): its calls run in a
   * task context (./task-api.ts). A plain `Run`-only program pays nothing for the task model.
   */
  readonly usesTaskApi?: boolean;
  readonly loadError: unknown;
  readonly args: unknown;
}

interface Entry {
  program: string;
  compiled: CompiledProgram;
  refs: number;
}

/**
 * Compiles job programs with an indirect `eval`, **which is not a sandbox**: the program runs with
 * the full power of this Node process. The fleet is for trusted code (your own jobs, tests,
 * benchmarks); untrusted code belongs in the browser worker page's sandbox.
 *
 * The program is evaluated as the worker page does (`args` in scope, `Run` returned), once per
 * job for everyone holding a reference: a fleet of 2,000 workers compiles each job once, so a
 * program's top-level state is shared by the fleet (pass `sharePrograms: false` to give each
 * worker its own). An entry is dropped when its last holder releases it.
 *
 * @example
 * const cache = new ProgramCache();
 * const p = cache.acquire('job-1', 'function Run(d, args) { return d * args.k }', { k: 2 });
 * p.run?.(21, p.args); // 42
 * cache.release('job-1', p);
 */
export class ProgramCache {
  private readonly entries = new Map<string, Entry>();

  /** The compiled program of `jobId`, compiling it if nobody holds it yet. */
  acquire(jobId: string, program: string, args: unknown): CompiledProgram {
    const entry = this.entries.get(jobId);
    // A job's program never changes; a different text means another server reused the id.
    if (entry && entry.program === program) {
      entry.refs++;
      return entry.compiled;
    }
    const compiled = compile(program, args);
    if (!entry) this.entries.set(jobId, { program, compiled, refs: 1 });
    return compiled;
  }

  /** Gives back a program from {@link acquire}. */
  release(jobId: string, compiled: CompiledProgram): void {
    const entry = this.entries.get(jobId);
    if (entry?.compiled === compiled && --entry.refs <= 0) this.entries.delete(jobId);
  }

  /** Programs currently compiled. */
  get size(): number {
    return this.entries.size;
  }
}

/** Called by another name than `eval`: global scope, none of this module's. */
const indirectEval = eval as (source: string) => unknown;

function compile(program: string, args: unknown): CompiledProgram {
  try {
    // Trusted code only (see the class comment): this is not a sandbox. An indirect eval, as
    // the page compiles it: frames name job.js with the program's own line numbers.
    const factory = indirectEval(jobScript(program)) as (
      args: unknown,
      tabgrid: typeof SIM_TABGRID,
      console: Console,
    ) => [RunFunction | undefined, SetupFunction | undefined, TeardownFunction | undefined];
    const [run, setup, teardown] = factory(args, SIM_TABGRID, SIM_CONSOLE);
    const usesTaskApi =
      setup !== undefined || teardown !== undefined || /\b(?:tabgrid|console)\b/.test(program);
    if (run === undefined) {
      return {
        run,
        args,
        loadError: new TypeError('the program must define a function Run(input, args)'),
      };
    }
    return { run, setup, teardown, usesTaskApi, args, loadError: undefined };
  } catch (error) {
    return { run: undefined, args, loadError: error };
  }
}

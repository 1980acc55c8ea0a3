/**
 * The CLI's dispatch: parses the command line, checks each command's arguments and flags,
 * runs the command, and turns what happened into an exit code (see {@link EXIT}).
 */
import type { Writable } from 'node:stream';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { Tabgrid } from '../client.js';
import { RestClient } from '../rest.js';
import type { CommandContext } from './context.js';
import { printLogs, printSeries } from './feeds.js';
import { MAX_LOCAL_THREADS } from '../local/local-transport.js';
import {
  UsageError,
  checkFlagsOf,
  integerFlag,
  parseCommandLine,
  stringFlag,
  type FlagValues,
} from './flags.js';
import { cliMessage } from './hints.js';
import {
  cancelCommand,
  deleteCommand,
  jobsCommand,
  resumeCommand,
  statusCommand,
} from './job-commands.js';
import { keysCommand } from './keys-command.js';
import { errorsCommand, resultsCommand, watchCommand } from './outcome-commands.js';
import { streamSink } from './output.js';
import { replayCommand } from './replay-command.js';
import { runCommand } from './run-command.js';
import { EXIT, USAGE } from './usage.js';

interface Command {
  /** The positional arguments, for messages: `['JOB', 'LABEL']`. */
  args: readonly string[];
  /** How many of them may be left out (from the end). */
  optional?: number;
  run(ctx: CommandContext, args: string[]): Promise<number>;
}

const one = (f: (ctx: CommandContext, id: string) => Promise<number>) => ({
  args: ['JOB'],
  run: (ctx: CommandContext, [id]: string[]) => f(ctx, id ?? ''),
});

const COMMANDS: Record<string, Command> = {
  run: {
    args: ['PROGRAM', 'TASKS'],
    // TASKS may also be given as --input (the flag of earlier versions).
    optional: 1,
    run: (ctx, [program, tasks]) => {
      const input = stringFlag(ctx.values, 'input');
      if (tasks !== undefined && input !== undefined) {
        throw new UsageError('Give TASKS or --input, not both.');
      }
      const from = tasks ?? input;
      if (from === undefined) {
        throw new UsageError(
          'run needs PROGRAM and TASKS: tabgrid run double.js tasks.ndjson (- for stdin).',
        );
      }
      return runCommand(ctx, program ?? '', from);
    },
  },
  watch: one(watchCommand),
  results: one(resultsCommand),
  errors: one(errorsCommand),
  replay: {
    args: ['JOB', 'INDEX'],
    run: (ctx, [job, index]) => replayCommand(ctx, job ?? '', index ?? ''),
  },
  jobs: { args: [], run: (ctx) => jobsCommand(ctx) },
  status: one(statusCommand),
  cancel: one(cancelCommand),
  resume: one(resumeCommand),
  delete: one(deleteCommand),
  logs: {
    args: ['JOB'],
    run: async (ctx, [job]) => {
      await printLogs(
        rest(ctx.values, ctx.client()),
        job ?? '',
        ctx.values.follow === true,
        write(ctx),
      );
      return EXIT.OK;
    },
  },
  series: {
    args: ['JOB', 'LABEL'],
    run: async (ctx, [job, label]) => {
      await printSeries(
        rest(ctx.values, ctx.client()),
        job ?? '',
        label ?? '',
        ctx.values.csv === true,
        write(ctx),
      );
      return EXIT.OK;
    },
  },
  keys: {
    args: ['create|list|revoke', 'ID'],
    optional: 1,
    run: (ctx, [action, id]) => {
      if (action !== 'revoke' && id !== undefined)
        throw new UsageError(`Unexpected argument "${id}".`);
      return keysCommand(ctx, action ?? '', id);
    },
  },
};

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === '' ? undefined : value;
}

const rest = (values: FlagValues, tg: Tabgrid) =>
  new RestClient(tg.url, stringFlag(values, 'token') ?? env('TABGRID_TOKEN'));

const write = (ctx: CommandContext) => (text: string) => void ctx.io.out.write(text);

/** The client a command talks through: the server of --url/--token, or threads here (--local). */
function openClient(values: FlagValues): Tabgrid {
  if (values.local === true) {
    const threads = integerFlag(values, 'threads', 1, MAX_LOCAL_THREADS);
    return new Tabgrid({ local: threads === undefined ? {} : { threads } });
  }
  const url = stringFlag(values, 'url');
  const token = stringFlag(values, 'token');
  return new Tabgrid({
    ...(url === undefined ? {} : { url: url.split(',') }),
    ...(token === undefined ? {} : { token }),
    connectTimeoutMs: 5_000,
  });
}

/** Where the CLI reads and writes; the process's own streams unless a test says otherwise. */
export interface MainStreams {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & AsyncIterable<Uint8Array | string>;
}

/**
 * Runs one command line; resolves with the process exit code (never rejects: failures are
 * printed on stderr).
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(
  argv: readonly string[],
  streams: MainStreams = process,
): Promise<number> {
  const io = { out: streamSink(streams.stdout), err: streamSink(streams.stderr) };
  let tg: Tabgrid | undefined;
  try {
    const { values, positionals } = parseCommandLine(argv);
    const [name, ...args] = positionals;
    if (values.help === true || name === undefined || name === 'help') {
      await io.out.write(`${USAGE}\n`);
      return name === undefined && values.help !== true ? EXIT.USAGE : EXIT.OK;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`Unknown command "${name}".`);
    checkFlagsOf(name, values);
    const needed = command.args.length - (command.optional ?? 0);
    if (args.length < needed) {
      throw new UsageError(
        `${name} needs ${command.args.slice(args.length, needed).join(' and ')}.`,
      );
    }
    if (args.length > command.args.length) {
      throw new UsageError(`Unexpected argument "${args[command.args.length]}".`);
    }
    const ctx: CommandContext = {
      values,
      io,
      errStream: streams.stderr,
      stdin: streams.stdin,
      client: () => (tg ??= openClient(values)),
      now: () => Date.now(),
      onInterrupt: (handler) => {
        process.on('SIGINT', handler);
        return () => process.off('SIGINT', handler);
      },
    };
    return await command.run(ctx, args);
  } catch (error) {
    return report(error, io.err);
  } finally {
    await tg?.close();
  }
}

async function report(
  error: unknown,
  err: { write(text: string): Promise<void> },
): Promise<number> {
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') return EXIT.OK;
  if (error instanceof UsageError) {
    await err.write(
      `tabgrid: ${error.message}\nSee tabgrid --help for the commands and their flags.\n`,
    );
    return EXIT.USAGE;
  }
  await err.write(`tabgrid: ${cliMessage(error)}\n`);
  if (error instanceof TabgridError && error.code === ErrorCode.JOB_CANCELLED)
    return EXIT.CANCELLED;
  return EXIT.FAILED;
}

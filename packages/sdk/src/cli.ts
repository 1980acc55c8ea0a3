#!/usr/bin/env node
/**
 * `tabgrid`: list, inspect, cancel and delete jobs, or run a program file over a JSON array of
 * tasks. Node only.
 *
 * @example
 * TABGRID_TOKEN=… npx tabgrid jobs
 * npx tabgrid run double.js --input tasks.json > outcomes.ndjson
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { JobInfo } from '@tabgrid/protocol/jobs';
import { printLogs, printSeries } from './cli-feeds.js';
import { DEFAULT_URL, Tabgrid } from './client.js';
import { RestClient } from './rest.js';

const USAGE = `Usage: tabgrid <command> [options]

Commands:
  jobs                          List your jobs
  status <id>                   Show one job
  cancel <id>                   Cancel a job (unsettled tasks are dropped)
  delete <id>                   Delete a job with its tasks and outcomes
  logs <job> [--follow]         Print the job's console lines, one per line as
                                [index] level ×count message; --follow: then
                                live until the job ends. <job> is an id or,
                                if no job has that id, your latest job of that
                                name (also for series)
  series <job> <label> [--csv]  Print the series <label> the job's tasks
                                collected: a JSON line { index, values } per
                                task, or --csv rows index,step,value
  run <file.js> --input <file>  Create a job from a program file (it defines
                                function Run(input, args)), submit the JSON array
                                of tasks in <file> ('-' for stdin), and print every
                                outcome as a JSON line as it settles
  keys create --name <name> --role <admin|client|viewer> [--owner <client>]
                                Create an API key (admin token needed); the
                                secret is printed once
  keys list                     List API keys (never their secrets)
  keys revoke <id>              Revoke an API key

Options:
  --url <url>        Server address (env TABGRID_URL, default ${DEFAULT_URL})
  --token <token>    API token (env TABGRID_TOKEN; printed by \`npm start\`)
  --json             Print JSON instead of a table (jobs, status, cancel)
  --follow           Keep printing lines as they come until the job ends (logs)
  --csv              Print CSV instead of JSON lines (series)
  --name <name>      Job name (run; default: the program's file name), or key name
  --role <role>      Key role (keys create)
  --owner <name>     For a viewer key: the client whose jobs it reads (keys create)
  --args <json>      JSON value handed to every Run call (run)
  --timeout-ms <ms>  Time limit of one Run call (run)
  -h, --help         Show this help

Exit codes: 0 success, 1 failure (for run: also when any task failed), 2 usage error.`;

/** Each command, and whether it takes a job id (or file) argument. */
const TAKES_TARGET: Record<string, boolean | undefined> = {
  jobs: false,
  status: true,
  cancel: true,
  delete: true,
  logs: true,
  series: true,
  run: true,
  keys: true,
};

class UsageError extends Error {}

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === '' ? undefined : value;
}

const write = (text: string): void => {
  process.stdout.write(text);
};

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean', default: false },
        follow: { type: 'boolean', default: false },
        csv: { type: 'boolean', default: false },
        input: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string' },
        owner: { type: 'string' },
        args: { type: 'string' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function table(jobs: JobInfo[]): string {
  const rows = [
    [
      'ID',
      'NAME',
      'STATE',
      'TOTAL',
      'FINISHED',
      'FAILED',
      'IN FLIGHT',
      'QUEUED',
      'PRIORITY',
      'CREATED',
    ],
    ...jobs.map((j) => [
      j.id,
      j.name,
      j.state,
      String(j.total),
      String(j.finished),
      String(j.failed),
      String(j.inFlight),
      String(j.queued),
      String(j.priority),
      j.created,
    ]),
  ];
  const widths =
    rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function describe(job: JobInfo): string {
  return Object.entries(job)
    .map(([key, value]: [string, unknown]) => {
      // Counters such as `setups` or `logs` are objects: shown as their JSON.
      const text =
        typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
      return `${`${key}:`.padEnd(13)} ${text}`;
    })
    .join('\n');
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${what} is not valid JSON (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
}

async function readInput(path: string): Promise<unknown[]> {
  let text: string;
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    text = await readFile(path, 'utf8');
  }
  const tasks = parseJson(text, `--input ${path}`);
  if (!Array.isArray(tasks))
    throw new UsageError(`--input ${path} must hold a JSON array of tasks.`);
  return tasks as unknown[];
}

async function run(
  tg: Tabgrid,
  file: string,
  values: ReturnType<typeof parse>['values'],
): Promise<number> {
  if (!values.input)
    throw new UsageError('run needs --input <tasks.json> (a JSON array; - for stdin).');
  const timeoutMs = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    throw new UsageError('--timeout-ms must be a positive integer.');
  }
  const [program, tasks] = await Promise.all([readFile(file, 'utf8'), readInput(values.input)]);
  const job = await tg.createJob({
    program,
    name: values.name ?? basename(file),
    ...(values.args === undefined ? {} : { args: parseJson(values.args, '--args') }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  process.stderr.write(`job ${job.id}: ${tasks.length} task${tasks.length === 1 ? '' : 's'}\n`);
  let failed = 0;
  for await (const outcome of job.run(tasks)) {
    if (!outcome.ok) failed += 1;
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
  }
  process.stderr.write(`job ${job.id}: ${tasks.length - failed} succeeded, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

async function keys(
  tg: Tabgrid,
  action: string,
  keyId: string | undefined,
  values: ReturnType<typeof parse>['values'],
): Promise<number> {
  switch (action) {
    case 'create': {
      const role = values.role;
      if (!values.name || (role !== 'admin' && role !== 'client' && role !== 'viewer')) {
        throw new UsageError('keys create needs --name <name> and --role <admin|client|viewer>.');
      }
      const key = await tg.keys.create({
        name: values.name,
        role,
        ...(values.owner === undefined ? {} : { owner: values.owner }),
      });
      if (values.json) process.stdout.write(`${JSON.stringify(key, null, 2)}\n`);
      else
        process.stdout.write(
          `Created ${key.role} key "${key.name}" (id ${key.id}).\nSecret (shown only now): ${key.secret}\n`,
        );
      return 0;
    }
    case 'list': {
      const list = await tg.keys.list();
      process.stdout.write(
        values.json
          ? `${JSON.stringify(list, null, 2)}\n`
          : list.length === 0
            ? 'No keys (the admin token always works).\n'
            : `${list.map((k) => `${k.id}  ${k.name}  ${k.role}${k.owner ? ` (reads ${k.owner})` : ''}  ${k.created}`).join('\n')}\n`,
      );
      return 0;
    }
    case 'revoke':
      if (!keyId) throw new UsageError('keys revoke needs a key id (see tabgrid keys list).');
      await tg.keys.revoke(keyId);
      process.stdout.write(`Revoked key ${keyId}.\n`);
      return 0;
    default:
      throw new UsageError(`Unknown keys action "${action}": use create, list or revoke.`);
  }
}

/** Runs one command; resolves with the process exit code. */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const [command, target, ...extra] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  const needsTarget = TAKES_TARGET[command];
  if (needsTarget === undefined) throw new UsageError(`Unknown command "${command}".`);
  if (needsTarget && target === undefined) {
    throw new UsageError(
      `${command} needs ${command === 'run' ? 'a program file' : command === 'keys' ? 'an action: create, list or revoke' : 'a job id'}.`,
    );
  }
  if (command === 'series' && extra[0] === undefined) {
    throw new UsageError('series needs a job and a label: tabgrid series <job> <label>.');
  }
  const unexpected =
    command === 'keys'
      ? extra[target === 'revoke' ? 1 : 0]
      : command === 'series'
        ? extra[1]
        : needsTarget
          ? extra[0]
          : target;
  if (unexpected !== undefined) throw new UsageError(`Unexpected argument "${unexpected}".`);
  const tg = new Tabgrid({
    ...(values.url === undefined ? {} : { url: values.url }),
    ...(values.token === undefined ? {} : { token: values.token }),
    connectTimeoutMs: 5_000,
  });
  const rest = () => new RestClient(tg.url, values.token ?? env('TABGRID_TOKEN'));
  const print = (info: JobInfo | JobInfo[], text: string) =>
    process.stdout.write(`${values.json ? JSON.stringify(info, null, 2) : text}\n`);
  try {
    const id = target ?? '';
    switch (command) {
      case 'jobs': {
        const jobs = await tg.jobs();
        print(jobs, jobs.length === 0 ? 'No jobs.' : table(jobs));
        return 0;
      }
      case 'status': {
        const info = await tg.job(id).status();
        print(info, describe(info));
        return 0;
      }
      case 'cancel': {
        const info = await tg.job(id).cancel();
        print(
          info,
          info.state === 'cancelled' ? `Cancelled job ${id}.` : `Job ${id} is ${info.state}.`,
        );
        return 0;
      }
      case 'delete':
        await tg.job(id).delete();
        process.stdout.write(`Deleted job ${id}.\n`);
        return 0;
      case 'logs':
        await printLogs(rest(), id, values.follow, write);
        return 0;
      case 'series':
        await printSeries(rest(), id, extra[0] ?? '', values.csv, write);
        return 0;
      case 'run':
        return await run(tg, id, values);
      case 'keys':
        return await keys(tg, id, extra[0], values);
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } finally {
    await tg.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`tabgrid: ${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (error instanceof TabgridError && error.code === ErrorCode.UNAUTHORIZED) {
      process.stderr.write(
        'tabgrid: the server refused the token: pass --token or set TABGRID_TOKEN (printed by `npm start`).\n',
      );
      process.exitCode = 1;
    } else if (error instanceof TabgridError) {
      process.stderr.write(`tabgrid: ${error.message} (${error.code})\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`tabgrid: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);

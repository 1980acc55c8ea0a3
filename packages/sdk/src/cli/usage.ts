/**
 * `tabgrid --help`: the commands, the flags and the exit codes. scripts/check-readme.mjs reads
 * the `Commands:` block of this file and fails when the README does not document one of them.
 */
import { DEFAULT_URL } from '../client.js';
import { JOB_OPTION_FLAGS } from './flags.js';

/** The process exit codes of every command. */
export const EXIT = {
  /** Done; for run and watch: every task succeeded. */
  OK: 0,
  /** Some task failed (run, watch), or the command could not be carried out. */
  FAILED: 1,
  /** The command line or the task input was wrong: nothing was run. */
  USAGE: 2,
  /** The job was cancelled (or deleted) before all its tasks settled. */
  CANCELLED: 3,
  /** Interrupted (Ctrl-C a second time): the job was left as it was. */
  INTERRUPTED: 130,
} as const;

/** What each job-option flag does (an option without an entry here gets a generic line). */
const JOB_OPTION_HELP: Record<string, string> = {
  timeoutMs: 'Longest one Run call may take (ms, default 60000)',
  maxAttempts: 'Tries of a task lost or timed out before it fails (default 3)',
  retryErrors: 'Reruns of a task whose Run threw, with backoff (default 0)',
  redundancy: 'Workers that must agree on each result (default 1)',
  maxReplicas: 'With --redundancy, most workers a task may run on (default redundancy + 2)',
  priority: 'Higher runs first; equal priorities share the grid (default 0)',
  setupTimeoutMs: 'Longest one Setup(args) may take (ms, default --timeout-ms)',
  progressTimeoutMs: 'A task silent this long (no tabgrid.progress()) is rerun (ms, default off)',
  maxFailures: 'Stop the job once its first N tasks fail with the same error',
};

function jobOptionLines(): string {
  return JOB_OPTION_FLAGS.map((f) => {
    const left = `  --${f.flag}${f.kind === 'boolean' ? '' : ' <n>'}`;
    const help = JOB_OPTION_HELP[f.option] ?? `The job option ${f.option} (see the README)`;
    return `${left.padEnd(27)} ${help}`;
  }).join('\n');
}

export const USAGE = `Usage: tabgrid <command> [options]

Commands:
  run PROGRAM TASKS|-           Create a job from a program file (it defines
                                function Run(input, args)), submit TASKS (a file
                                or - for stdin: a JSON array, or NDJSON, one task
                                per line), print every outcome as a JSON line
                                (or into --out), with live progress and a summary
                                on stderr
  watch JOB                     Show a job's progress live until it ends, then
                                its summary (exit code as for run)
  results JOB                   Print the job's results as JSON lines
                                { index, value, seq }, live until it ends
  errors JOB                    Print the job's failed tasks as JSON lines
                                { index, name, message, stack, type, seq }
  replay JOB INDEX              Rerun task INDEX on this machine with the job's
                                program and args; print its value, or its error
                                and stack
  jobs                          List your jobs, newest first, with progress and age
  status <id>                   Show one job
  cancel <id>                   Cancel a job (unsettled tasks are dropped)
  resume <id>                   Dispatch a paused job's tasks again
  delete <id>                   Delete a job with its tasks and outcomes
  logs JOB [--follow]           Print the job's console lines, one per line as
                                [index] level ×count message; --follow: then
                                live until the job ends
  series JOB LABEL [--csv]      Print the series LABEL the job's tasks
                                collected: a JSON line { index, values } per
                                task, or --csv rows index,step,value
  keys create --name <name> --role <admin|client|viewer> [--owner <client>]
                                Create an API key (admin token needed); the
                                secret is printed once
  keys list                     List API keys (never their secrets)
  keys revoke <id>              Revoke an API key

JOB is a job id or, if no job has that id, your newest job of that name.

Options:
  --url <url[,url…]>        Server address, or several nodes (env TABGRID_URL, default ${DEFAULT_URL})
  --token <token>           API token (env TABGRID_TOKEN; printed by \`npm start\`)
  --json                    JSON instead of a table (jobs, status, cancel, resume, keys)
  -h, --help                Show this help

Options of run:
  --name <name>             Job name (default: the program's file name)
  --args <json>             JSON value handed to every Run (and Setup) call
  --args-file <file>        The same, read from a JSON file
  --group <label>           Free-form label to group jobs by
  --format <json|ndjson>    How TASKS is written (default: detected: a JSON
                            array, else one task per line)
  --out <file>              Write the outcomes (JSON lines) there, not to stdout
  --local                   Run in worker threads on this machine: no server
  --threads <n>             With --local: how many threads (default: CPUs - 1)
  -q, --quiet               No progress (the summary is still printed)
  --progress-every <s>      Seconds between progress lines when stderr is not a
                            terminal (default 5; on a terminal a live bar)
${jobOptionLines()}

Options of watch: --quiet, --progress-every (as for run).
Options of logs, series, keys: --follow, --csv; --name, --role, --owner (keys create).

Exit codes: ${EXIT.OK} success; ${EXIT.FAILED} a task failed (run, watch, replay) or the command
failed; ${EXIT.USAGE} usage or input error; ${EXIT.CANCELLED} the job was cancelled before all its tasks
settled; ${EXIT.INTERRUPTED} interrupted (Ctrl-C twice).`;

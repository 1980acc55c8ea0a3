/**
 * `tabgrid run PROGRAM TASKS|-`: creates a job from a program file, streams TASKS into it, and
 * prints every outcome as a JSON line (stdout, or `--out FILE`) with live progress and, at the
 * end, a summary on stderr. Ctrl-C once cancels the job (exit 3); twice leaves at once.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { LIMITS } from '@tabgrid/protocol/jobs';
import type { Job, TaskOutcome } from '../job.js';
import type { CommandContext } from './context.js';
import { UsageError, jobOptionsFrom, numberFlag, stringFlag, type FlagValues } from './flags.js';
import { openOutFile, outcomeSink } from './out-file.js';
import { jsonLine, plural } from './output.js';
import { ProgressTracker } from './progress-tracker.js';
import { showProgress } from './progress-view.js';
import { ErrorGroups, formatSummary } from './run-summary.js';
import { readTasks, type TaskFormat, type TaskInput } from './task-input.js';
import { EXIT } from './usage.js';

/** Largest `--args-file`, as large as a program: args travel once per job, like it. */
const MAX_ARGS_FILE_BYTES = LIMITS.maxProgramBytes;

async function readBoundedFile(path: string, what: string, maxBytes: number): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new UsageError(`Cannot read ${what} ${path}: ${(error as Error).message}.`);
  }
  if (size > maxBytes) {
    throw new UsageError(`${what} ${path} is ${size} bytes, over the limit of ${maxBytes}.`);
  }
  const handle = await open(path);
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function parseJsonFlag(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON (${(error as Error).message}).`);
  }
}

async function argsOf(values: FlagValues): Promise<{ args?: unknown }> {
  const inline = stringFlag(values, 'args');
  const file = stringFlag(values, 'args-file');
  if (inline !== undefined && file !== undefined) {
    throw new UsageError('Give --args or --args-file, not both.');
  }
  if (inline !== undefined) return { args: parseJsonFlag(inline, '--args') };
  if (file !== undefined) {
    const text = await readBoundedFile(file, '--args-file', MAX_ARGS_FILE_BYTES);
    return { args: parseJsonFlag(text, `--args-file ${file}`) };
  }
  return {};
}

function formatOf(values: FlagValues): TaskFormat | undefined {
  const format = stringFlag(values, 'format');
  if (format === undefined || format === 'json' || format === 'ndjson') return format;
  throw new UsageError(`--format must be json or ndjson (got "${format}").`);
}

async function openTasks(ctx: CommandContext, path: string): Promise<TaskInput> {
  const format = formatOf(ctx.values);
  if (path === '-') {
    if ((ctx.stdin as { isTTY?: boolean }).isTTY) {
      await ctx.io.err.write(
        'tabgrid: reading tasks from the terminal, one per line; end with Ctrl-D.\n',
      );
    }
    return readTasks(ctx.stdin, 'TASKS (stdin)', format);
  }
  try {
    await stat(path);
  } catch (error) {
    throw new UsageError(`Cannot read TASKS ${path}: ${(error as Error).message}.`);
  }
  return readTasks(createReadStream(path), `TASKS ${path}`, format);
}

/** How a run ended, for the summary and the exit code. */
interface Tally {
  succeeded: number;
  failed: number;
  cancelled: boolean;
  errors: ErrorGroups;
}

/** The exit code of a finished run or watch. */
export function exitCodeOf(tally: { failed: number; cancelled: boolean }): number {
  if (tally.cancelled) return EXIT.CANCELLED;
  return tally.failed > 0 ? EXIT.FAILED : EXIT.OK;
}

function count(tally: Tally, outcome: TaskOutcome): void {
  if (outcome.ok) {
    tally.succeeded += 1;
    return;
  }
  tally.failed += 1;
  tally.errors.add(outcome.index, outcome.error);
  if (outcome.error.type === 'cancelled') tally.cancelled = true;
}

/** Cancels the job on the first Ctrl-C; the second leaves at once, the job as it is. */
function cancelOnInterrupt(ctx: CommandContext, job: Job): () => void {
  let interrupts = 0;
  return ctx.onInterrupt(() => {
    interrupts += 1;
    if (interrupts > 1) {
      process.stderr.write(`\ntabgrid: left job ${job.id} as it is.\n`);
      process.exit(EXIT.INTERRUPTED);
    }
    process.stderr.write(
      `\ntabgrid: cancelling job ${job.id} (Ctrl-C again to leave it running)…\n`,
    );
    job.cancel().catch((error: unknown) => {
      process.stderr.write(
        `tabgrid: could not cancel job ${job.id}: ${(error as Error).message}\n`,
      );
    });
  });
}

export async function runCommand(
  ctx: CommandContext,
  programPath: string,
  tasksPath: string,
): Promise<number> {
  const { values, io } = ctx;
  const jobOptions = jobOptionsFrom(values);
  const everyMs = (numberFlag(values, 'progress-every', 0.1, 3_600) ?? 5) * 1_000;
  if (values.threads !== undefined && values.local !== true) {
    throw new UsageError('--threads goes with --local (threads on this machine).');
  }
  const [program, args] = await Promise.all([
    readBoundedFile(programPath, 'PROGRAM', LIMITS.maxProgramBytes),
    argsOf(values),
  ]);
  const input = await openTasks(ctx, tasksPath);
  const outPath = stringFlag(values, 'out');
  const out = outPath === undefined ? undefined : await openOutFile(outPath);

  const tg = ctx.client();
  const name = stringFlag(values, 'name') ?? basename(programPath);
  const group = stringFlag(values, 'group');
  const job = await tg.createJob({
    program,
    name,
    ...args,
    ...(group === undefined ? {} : { group }),
    ...jobOptions,
  });
  await io.err.write(
    `tabgrid: job ${job.id} (${name}): ${input.total === undefined ? 'streaming tasks' : plural(input.total, 'task')} from ${tasksPath === '-' ? 'stdin' : tasksPath}\n`,
  );

  const tally: Tally = { succeeded: 0, failed: 0, cancelled: false, errors: new ErrorGroups() };
  const tracker = new ProgressTracker(ctx.now);
  const view = showProgress({
    sink: io.err,
    stream: ctx.errStream,
    label: `job ${job.id}`,
    everyMs,
    mode: values.quiet === true ? 'off' : 'auto',
    read: () => {
      tracker.record(tally.succeeded + tally.failed, tally.failed, input.total);
      return { ...tracker.snapshot(), submitted: input.count };
    },
  });
  const sink = outcomeSink(out, io.out, io.err, view, values.quiet !== true);
  const stopInterrupts = cancelOnInterrupt(ctx, job);
  try {
    for await (const outcome of job.run(input.tasks)) {
      count(tally, outcome);
      await sink.write(jsonLine(outcome));
    }
  } catch (error) {
    if (error instanceof TabgridError && error.code === ErrorCode.JOB_CANCELLED) {
      tally.cancelled = true;
    } else {
      await view.stop();
      await out?.close();
      if (error instanceof UsageError) {
        // Bad input midway: the tasks already submitted would run for nobody.
        await job.cancel().catch(() => undefined);
        throw new UsageError(`${error.message} Job ${job.id} was cancelled.`);
      }
      throw error;
    }
  } finally {
    stopInterrupts();
  }
  const settled = tally.succeeded + tally.failed;
  if (!tally.cancelled && settled < input.count) {
    // The stream ended before every task settled: the job was cancelled or deleted.
    const state = await job.status().then(
      (info) => info.state,
      () => 'deleted',
    );
    tally.cancelled = state === 'cancelled' || state === 'deleted';
  }
  await view.stop();
  await out?.close();
  await io.err.write(
    formatSummary({
      jobId: job.id,
      name,
      total: input.total ?? input.count,
      succeeded: tally.succeeded,
      failed: tally.failed,
      elapsedMs: tracker.snapshot().elapsedMs,
      cancelled: tally.cancelled,
      errors: tally.errors,
      local: values.local === true,
      ...(outPath === undefined ? {} : { outFile: outPath }),
    }),
  );
  return exitCodeOf(tally);
}

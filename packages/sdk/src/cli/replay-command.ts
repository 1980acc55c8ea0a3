/**
 * `tabgrid replay JOB INDEX`: reruns one task of a job here, in a local worker thread, with
 * the job's program, args and that task's input (see `replayTask`). Prints the task's value as
 * a JSON line on stdout (exit 0), or its error with the stack on the program's own lines on
 * stderr (exit 1); the task's console lines go to stderr either way.
 */
import { replayTask } from '../local/replay.js';
import { resolveJobRef, type CommandContext } from './context.js';
import { formatLogLine } from './feeds.js';
import { UsageError } from './flags.js';
import { formatDuration, jsonLine } from './output.js';
import { EXIT } from './usage.js';

export async function replayCommand(
  ctx: CommandContext,
  ref: string,
  indexText: string,
): Promise<number> {
  const index = Number(indexText);
  if (!/^\d+$/.test(indexText) || !Number.isSafeInteger(index)) {
    throw new UsageError(`INDEX must be a task's index, 0 or more (got "${indexText}").`);
  }
  const tg = ctx.client();
  const { job, info } = await resolveJobRef(tg, ref);
  if (index >= info.total) {
    throw new UsageError(
      info.total === 0
        ? `Job ${job.id} has no tasks to replay.`
        : `Job ${job.id} has ${info.total} tasks: INDEX goes from 0 to ${info.total - 1}.`,
    );
  }
  const { io } = ctx;
  await io.err.write(
    `tabgrid: replaying task ${index} of job ${job.id} (${info.name}) on this machine…\n`,
  );
  const replay = await replayTask(tg, job.id, index);
  for (const line of replay.logs) await io.err.write(`${formatLogLine(line)}\n`);
  if (replay.ok) {
    await io.out.write(jsonLine(replay.value));
    await io.err.write(`tabgrid: task ${index} succeeded in ${formatDuration(replay.ms)}.\n`);
    return EXIT.OK;
  }
  const { type, name, message, stack } = replay.error;
  await io.err.write(
    `tabgrid: task ${index} failed (${type}) in ${formatDuration(replay.ms)}:\n${stack.trim() || `${name}: ${message}`}\n`,
  );
  return EXIT.FAILED;
}

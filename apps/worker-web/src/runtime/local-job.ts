import type { ServerJobMessage, ServerMessagesMessage } from '../connection/worker-connection';
import type { LocalJob } from '../sandbox/chunk';

/** `job.tell()` messages kept per job for threads that load it later (the server bounds less). */
const MAX_KEPT_MESSAGES = 1_000;

/** A job as this page keeps it, from its `job` frame; `key` is unique per frame. */
export function localJobOf(message: ServerJobMessage, key: number): LocalJob {
  const { jobId, program, args, timeoutMs, setupTimeoutMs, progressTimeoutMs } = message;
  const job: LocalJob = {
    key,
    jobId,
    program,
    args,
    timeoutMs,
    setupTimeoutMs: setupTimeoutMs ?? timeoutMs,
    messages: [],
    seriesFull: '',
    webgpu: (message.requirements?.webgpu ?? false) !== false,
  };
  if (progressTimeoutMs !== undefined) job.progressTimeoutMs = progressTimeoutMs;
  if (message.public !== undefined) job.public = message.public;
  return job;
}

/**
 * Keeps `job.tell()` messages in seq order (a reconnect's replay of older ones is skipped) for
 * threads that load the job later, and passes each new one to `tell` for those running it.
 */
export function keepMessages(
  job: LocalJob,
  items: ServerMessagesMessage['items'],
  tell: (seq: number, json: string) => void,
): void {
  for (const { seq, data } of items) {
    const last = job.messages[job.messages.length - 1];
    if ((last && seq <= last.seq) || job.messages.length >= MAX_KEPT_MESSAGES) continue;
    const json = JSON.stringify(data ?? null);
    job.messages.push({ seq, json });
    tell(seq, json);
  }
}

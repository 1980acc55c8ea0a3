/**
 * One task of a job as it was submitted, with the job's program and args: what `replayTask`
 * (SDK) and `tabgrid replay` need to run it again on the submitter's machine. Task inputs stay
 * in the store after they settle, so a failed task can be read back long after.
 */
import { textToSocketForm } from '@tabgrid/protocol/bytes';
import { unpackValue, type CarriedValue } from '@tabgrid/protocol/packed-value';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { SdkResponses } from '@tabgrid/protocol/sdk';
import type { JobStore } from '../store/job-store.js';

export type ReplayTask = SdkResponses['job:task'];

/** A stored value (JSON text with base64 tags, or packed) as the SDK socket sends values. */
function socketValue(stored: CarriedValue): unknown {
  return textToSocketForm(unpackValue(stored));
}

export async function readReplayTask(
  store: Pick<JobStore, 'getJobCode' | 'readTask'>,
  jobId: string,
  index: number,
): Promise<ReplayTask> {
  const [code, task] = await Promise.all([store.getJobCode(jobId), store.readTask(jobId, index)]);
  if (!code || !task) {
    throw new TabgridError(
      ErrorCode.NOT_FOUND,
      `Job ${jobId} has no task ${index}: tasks are numbered from 0 in submission order (see its total).`,
    );
  }
  return {
    index,
    input: socketValue(task.input),
    program: code.program,
    args: socketValue(code.argsJson),
  };
}

import type { ThreadToPage } from '@tabgrid/job-runtime/sandbox-protocol';
import { toTextFormOutcomes } from './attached-outcomes';
import { checkOutcomes } from './outcome-check';
import type { LocalJob } from './chunk';
import type { PoolThread } from './pool-thread';

type Results = Extract<ThreadToPage, { type: 'results' }>;

/**
 * `count` finished outcomes of tasks of `job`: protocol JSON texts joined by commas; with
 * `attachments`, their typed arrays' bytes, which their tags point into ({@link checkResults}).
 */
export type OnOutcomes = (
  job: LocalJob,
  outcomes: string,
  count: number,
  failures: number,
  ms: number,
  attachments?: ArrayBuffer[],
) => void;

/** What a results message forwards: outcome texts, and the bytes their tags point into. */
export interface CheckedResults {
  outcomes: string;
  /** The results' typed arrays, as the thread attached them (issue 18); undefined: none. */
  attachments?: ArrayBuffer[];
}

/**
 * A thread's results message, checked as outcome-check.ts says (the runtime only ever reports
 * the chunk it runs, at most the tasks it holds, as protocol outcomes for them): what to
 * forward, or why it is forged (a string, for the fault report).
 */
export function checkResults(thread: PoolThread, data: Results): CheckedResults | string {
  const chunk = thread.chunk;
  if (!chunk || data.chunkId !== chunk.chunkId) {
    return `results for chunk ${data.chunkId}, which it was not running`;
  }
  if (data.count > chunk.tasks.length - thread.reported) {
    return 'more outcomes than tasks it was given';
  }
  let outcomes = data.outcomes;
  let attachments = data.attachments;
  let attachedBytes: number | undefined;
  if (attachments !== undefined) {
    // Text-form tags beside attached ones (typed arrays in collected series): one frame holds
    // one form, so these outcomes go in the text form.
    if (outcomes.includes('"base64"')) {
      const text = toTextFormOutcomes(outcomes, attachments);
      if (text === undefined) return 'attachments that do not match their tags';
      outcomes = text;
      attachments = undefined;
    } else {
      attachedBytes = 0;
      for (const buffer of attachments) attachedBytes += buffer.byteLength;
    }
  }
  const { jobId } = chunk.job;
  const forged = checkOutcomes(
    outcomes,
    data.count,
    data.failures,
    jobId,
    chunk.tasks,
    thread.reported,
    attachedBytes,
  );
  if (forged !== undefined) return forged;
  return attachments === undefined || attachments.length === 0
    ? { outcomes }
    : { outcomes, attachments };
}

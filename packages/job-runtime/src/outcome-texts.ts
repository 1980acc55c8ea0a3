/**
 * Part of the thread runtime shipped as source text (see thread-source.ts): self-contained, it
 * may use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { CapturedNatives } from './captured-natives.js';
import type { resultJson } from './result-json.js';
import type { ThreadToPage } from './sandbox-protocol.js';
import type { Failure } from './task-failures.js';

/**
 * The outcome texts a thread builds (protocol `WorkerOutcome`s, finished JSON text, so the page
 * only concatenates them) and the results messages that carry them to the page, with the
 * results' typed arrays attached when the page asked for them (result-json.ts).
 */
export function outcomeTexts(
  natives: CapturedNatives,
  bounded: (failure: Failure) => Failure,
  refusal: (json: string, attached?: number) => Failure | undefined,
  values: ReturnType<typeof resultJson>,
  /** `,"series":[…]` of the current task, or '' (task-api.ts). */
  seriesPart: () => string,
  post: (message: ThreadToPage, transfer?: ArrayBuffer[]) => void,
) {
  const { stringify } = natives;
  const { resultToJson, attachMark, bytesSince, dropSince, hasAttachments, takeAttachments } =
    values;
  let outcomePrefix = '';

  /** The job this thread holds: every outcome names it. */
  function setJob(jobId: string): void {
    outcomePrefix = '{"jobId":' + stringify(jobId) + ',"index":';
  }

  function failedText(index: number, ms: number, errorJson: string, series: string): string {
    return (
      outcomePrefix + index + ',"ms":' + ms + ',"ok":false,"error":' + errorJson + series + '}'
    );
  }

  /** The last {@link valueText} failed its task (its value was refused). */
  let refusedValue = false;

  /** The outcome text of task `index`, whose Run returned `value`; a refused value fails it. */
  function valueText(index: number, ms: number, value: unknown, attach: boolean): string {
    const mark = attachMark();
    let json: string;
    try {
      json = resultToJson(value, attach);
    } catch (error) {
      dropSince(mark);
      throw error;
    }
    // With its typed arrays attached, a result's bytes count beside its JSON text.
    const refused = refusal(json, attach ? bytesSince(mark) : 0);
    const series = seriesPart();
    refusedValue = refused !== undefined;
    if (refused === undefined) {
      return outcomePrefix + index + ',"ms":' + ms + ',"ok":true,"value":' + json + series + '}';
    }
    dropSince(mark);
    return failedText(index, ms, stringify(bounded(refused)), series);
  }

  /** A results message; typed arrays of its outcomes go along, transferred (result-json.ts). */
  function sendResults(
    chunkId: number,
    outcomes: string,
    count: number,
    failures: number,
    ms: number,
    done: boolean,
    tel: string,
  ): void {
    if (!hasAttachments()) {
      post({ type: 'results', chunkId, outcomes, count, failures, ms, done, tel });
      return;
    }
    const { list, transfer } = takeAttachments();
    const message: ThreadToPage = {
      type: 'results',
      chunkId,
      outcomes,
      count,
      failures,
      ms,
      done,
      tel,
      attachments: list,
    };
    post(message, transfer ? list : undefined);
  }

  function refused(): boolean {
    return refusedValue;
  }

  return { setJob, failedText, valueText, refused, sendResults };
}

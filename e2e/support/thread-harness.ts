/**
 * Runs a thread runtime's source in a real Chromium tab exactly as the worker page starts its
 * job threads (a Worker from a `data:` URL, inheriting the page's policy, a private
 * MessageChannel handed over first), and speaks the thread protocol to it: `load`, then one
 * `run` per chunk. Lets the escape probes run against a runtime built without a protection,
 * which the page never ships.
 */
import type { Page } from '@playwright/test';

export interface HarnessOutcome {
  jobId: string;
  index: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string };
}

export interface HarnessRun {
  /** Outcomes of each chunk, in order (of the job the thread was given). */
  chunks: HarnessOutcome[][];
  /** Every message the thread posted on its port, raw (forged ones included). */
  messages: unknown[];
}

export async function runInThread(
  page: Page,
  source: string,
  job: { jobId: string; program: string; args: unknown },
  chunks: unknown[][],
  /** `job.tell()` messages the thread is given right after its program (data as JSON text). */
  told: { seq: number; json: string }[] = [],
): Promise<HarnessRun> {
  return page.evaluate(
    async ({ source, job, chunks, told }) => {
      const worker = new Worker(`data:text/javascript,${encodeURIComponent(source)}`);
      const channel = new MessageChannel();
      const messages: unknown[] = [];
      let wake: () => void = () => undefined;
      channel.port1.onmessage = (event: MessageEvent) => {
        messages.push(event.data);
        wake();
      };
      const until = (done: () => boolean) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error('thread did not answer in 15 s')),
            15_000,
          );
          const check = () => {
            if (!done()) return;
            clearTimeout(timer);
            resolve();
          };
          wake = check;
          check();
        });
      type Results = { type: string; chunkId: number; outcomes: string; done: boolean };
      const results = (chunkId: number) =>
        messages.filter(
          (m): m is Results =>
            (m as Results).type === 'results' && (m as Results).chunkId === chunkId,
        );
      try {
        worker.postMessage({ type: 'port' }, [channel.port2]);
        await until(() => messages.some((m) => (m as { type: string }).type === 'ready'));
        channel.port1.postMessage({ type: 'load', ...job });
        for (const { seq, json } of told) channel.port1.postMessage({ type: 'message', seq, json });
        const outcomes: unknown[][] = [];
        let index = 0;
        for (const [i, inputs] of chunks.entries()) {
          // Chunk ids far above the page's own, so a forger's guesses never name ours.
          const chunkId = 1000 + i;
          const tasks = inputs.map((input) => ({ index: index++, input }));
          channel.port1.postMessage({
            type: 'run',
            chunkId,
            tasks: JSON.stringify(tasks),
            flushEach: true,
          });
          await until(() => results(chunkId).some((m) => m.done));
          outcomes.push(
            results(chunkId).flatMap((m) => JSON.parse(`[${m.outcomes}]`) as unknown[]),
          );
        }
        return { chunks: outcomes, messages };
      } finally {
        worker.terminate();
      }
    },
    { source, job, chunks, told },
  ) as Promise<HarnessRun>;
}

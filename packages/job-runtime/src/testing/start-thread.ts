/**
 * The thread's shipped source in a fresh V8 context standing in for the worker global, talked to
 * over a real MessageChannel, as the page does: the one way thread-runtime tests start a thread.
 */
import { runInNewContext } from 'node:vm';
import type { PageToThread, ThreadToPage } from '../sandbox-protocol.js';
import { SANDBOX_WORKER_SOURCE } from '../thread-source.js';

type Results = Extract<ThreadToPage, { type: 'results' }>;

/**
 * A clock the test drives instead of the real one (no timing in unit tests): the thread reads
 * `performance.now()` from it, job code moves it with the global `advanceClock(ms)`, and
 * `reads` counts the thread's reads (what a tight loop of calls costs in clock reads).
 */
export interface TestClock {
  now: number;
  reads: number;
}

export function startThread(source = SANDBOX_WORKER_SOURCE, clock?: TestClock) {
  const scope: { onmessage: ((event: { ports: MessagePort[] }) => void) | null } = {
    onmessage: null,
  };
  const timing = clock
    ? {
        performance: {
          now: () => {
            clock.reads++;
            return clock.now;
          },
        },
        advanceClock: (ms: number) => {
          clock.now += ms;
        },
      }
    : { performance };
  const context = Object.assign(scope, timing, { MessageChannel, atob, btoa });
  runInNewContext(source, context);
  const channel = new MessageChannel();
  const received: ThreadToPage[] = [];
  let wake: (() => void) | undefined;
  channel.port1.onmessage = (event: MessageEvent<ThreadToPage>) => {
    received.push(event.data);
    wake?.();
  };
  scope.onmessage?.({ ports: [channel.port2] });
  const until = async (done: (all: ThreadToPage[]) => boolean) => {
    while (!done(received)) await new Promise<void>((resolve) => (wake = resolve));
  };
  return {
    scope,
    received,
    send: (message: PageToThread) => channel.port1.postMessage(message),
    close: () => channel.port1.close(),
    /** Every outcome of chunk `chunkId`, parsed, once its last flush arrived. */
    async outcomes(chunkId: number): Promise<unknown[]> {
      const mine = (all: ThreadToPage[]) =>
        all.filter((m): m is Results => m.type === 'results' && m.chunkId === chunkId);
      await until((all) => mine(all).some((m) => m.done));
      return mine(received).flatMap((m) => JSON.parse(`[${m.outcomes}]`) as unknown[]);
    },
  };
}

export type StartedThread = ReturnType<typeof startThread>;

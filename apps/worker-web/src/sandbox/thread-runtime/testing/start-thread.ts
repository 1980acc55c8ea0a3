/**
 * The thread's shipped source in a fresh V8 context standing in for the worker global, talked to
 * over a real MessageChannel, as the page does: the one way thread-runtime tests start a thread.
 */
import { runInNewContext } from 'node:vm';
import type { PageToThread, ThreadToPage } from '../../sandbox-protocol';
import { SANDBOX_WORKER_SOURCE } from '../thread-source';

type Results = Extract<ThreadToPage, { type: 'results' }>;

export function startThread(source = SANDBOX_WORKER_SOURCE) {
  const scope: { onmessage: ((event: { ports: MessagePort[] }) => void) | null } = {
    onmessage: null,
  };
  const context = Object.assign(scope, { performance, MessageChannel, atob, btoa });
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

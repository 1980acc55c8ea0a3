/**
 * The frames a simulated worker sends, built from the protocol's types. Outcome items are
 * serialised one by one as they finish (so one unserialisable value fails its own task, not the
 * batch), and a frame is one string concatenation of them.
 */
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import type { WorkerToServer } from '@tabgrid/protocol/worker';

type Frame<T extends WorkerToServer['type']> = Extract<WorkerToServer, { type: T }>;

export function helloFrame(threads: number, credit: number, userAgent: string): string {
  const hello: Frame<'hello'> = {
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    threads,
    userAgent,
    credit,
  };
  return JSON.stringify(hello);
}

export function creditFrame(slots: number): string {
  const credit: Frame<'credit'> = { type: 'credit', slots };
  return JSON.stringify(credit);
}

export function releaseFrame(tasks: Frame<'release'>['tasks']): string {
  const release: Frame<'release'> = { type: 'release', tasks };
  return JSON.stringify(release);
}

/**
 * An `outcomes` frame granting `credit` slots, from items that are each the JSON text of a
 * `WorkerOutcome`. Same text as `JSON.stringify({ type: 'outcomes', credit, items })`.
 */
export function outcomesFrame(credit: number, items: readonly string[]): string {
  return `{"type":"outcomes","credit":${credit},"items":[${items.join(',')}]}`;
}

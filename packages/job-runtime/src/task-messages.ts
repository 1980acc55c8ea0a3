/**
 * Part of the thread runtime shipped as source text (see thread-source.ts): self-contained, it
 * may use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { CapturedNatives } from './captured-natives.js';
import type { TaskApiHelpers } from './task-helpers.js';

interface MessageNode {
  seq: number;
  json: string;
  next: MessageNode | null;
}
interface ListenerNode {
  handler: ((data: unknown, seq: number) => void) | null;
  next: ListenerNode | null;
}
interface WaiterNode {
  resolve: (data: unknown) => void;
  next: WaiterNode | null;
}

/**
 * `tabgrid.listen` and `tabgrid.next`: the `job.tell()` messages of this thread's job, each
 * given once and in seq order to every listener (the ones so far when it listens, then live)
 * and, on a cursor of its own, to `next()`. Null-prototype linked lists only: job code may
 * patch every array and promise method but the frozen Promise.prototype.
 */
export function taskMessages(
  natives: CapturedNatives,
  helpers: TaskApiHelpers,
  hooks: {
    /** A listener threw: a line of level `error`. */
    handlerThrew: (message: string) => void;
    /** A message was handed out (handlers may have logged). */
    delivered: () => void;
  },
) {
  const { parse, includes, NativePromise, NativeTypeError } = natives;
  const { reviveBytes, BYTES_TAG, describe } = helpers;

  let firstMessage: MessageNode | null = null;
  let lastMessageNode: MessageNode | null = null;
  let lastSeq = 0;
  /** The first message `next()` has not returned yet. */
  let unread: MessageNode | null = null;
  let firstListener: ListenerNode | null = null;
  let lastListener: ListenerNode | null = null;
  let firstWaiter: WaiterNode | null = null;
  let lastWaiter: WaiterNode | null = null;

  function dataOf(node: MessageNode): unknown {
    return includes(node.json, BYTES_TAG) ? parse(node.json, reviveBytes) : parse(node.json);
  }

  function deliver(listener: ListenerNode, node: MessageNode): void {
    const handler = listener.handler;
    if (handler === null) return;
    try {
      handler(dataOf(node), node.seq);
    } catch (error) {
      const told = describe(error);
      hooks.handlerThrew('tabgrid.listen handler threw ' + told.name + ': ' + told.message);
    }
  }

  function listen(handler: unknown): () => void {
    if (typeof handler !== 'function') {
      throw new NativeTypeError('tabgrid.listen: the handler must be a function (data, seq)');
    }
    const listener = {
      __proto__: null,
      handler: handler as (data: unknown, seq: number) => void,
      next: null,
    } as unknown as ListenerNode;
    for (let node = firstMessage; node !== null; node = node.next) deliver(listener, node);
    if (lastListener === null) firstListener = listener;
    else lastListener.next = listener;
    lastListener = listener;
    return () => {
      listener.handler = null;
    };
  }

  function next(): Promise<unknown> {
    return new NativePromise<unknown>((resolve) => {
      if (unread !== null) {
        const node = unread;
        unread = node.next;
        resolve(dataOf(node));
        return;
      }
      const waiter = { __proto__: null, resolve, next: null } as unknown as WaiterNode;
      if (lastWaiter === null) firstWaiter = waiter;
      else lastWaiter.next = waiter;
      lastWaiter = waiter;
    });
  }

  /** A `job.tell()` message arrived (the backlog at load, or live); replays are ignored. */
  function onMessage(seq: number, json: string): void {
    if (seq <= lastSeq) return;
    lastSeq = seq;
    const node = { __proto__: null, seq, json, next: null } as unknown as MessageNode;
    if (lastMessageNode === null) firstMessage = node;
    else lastMessageNode.next = node;
    lastMessageNode = node;
    if (unread === null) unread = node;
    while (firstWaiter !== null && unread !== null) {
      const waiter: WaiterNode = firstWaiter;
      firstWaiter = waiter.next;
      if (firstWaiter === null) lastWaiter = null;
      const read: MessageNode = unread;
      unread = read.next;
      waiter.resolve(dataOf(read));
    }
    for (let listener = firstListener; listener !== null; listener = listener.next) {
      deliver(listener, node);
    }
    hooks.delivered();
  }

  return { listen, next, onMessage };
}

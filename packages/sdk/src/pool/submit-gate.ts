/**
 * The submission side of `imap`'s reordering window: task `position` is taken from the source
 * only once it is less than `window` places ahead of the next position the consumer waits for.
 * A slow early task therefore stops submission instead of letting out-of-order results pile up.
 */
import type { TaskSource } from '../batches.js';

export class SubmitGate {
  private next = 0;
  private waiting: { position: number; resolve: () => void } | undefined;
  private closed = false;

  constructor(readonly window: number) {}

  /** Tasks submitted but not yet handed to the consumer, at most: `window`. */
  get limit(): number {
    return this.next + this.window;
  }

  /** Resolves once `position` may be submitted (or the gate is closed). */
  admit(position: number): Promise<void> | undefined {
    if (position < this.limit || this.closed) return undefined;
    return new Promise((resolve) => {
      this.waiting = { position, resolve };
    });
  }

  /** The consumer now waits for `next`: positions below `next + window` may go. */
  advance(next: number): void {
    this.next = next;
    const waiting = this.waiting;
    if (waiting && waiting.position < this.limit) {
      this.waiting = undefined;
      waiting.resolve();
    }
  }

  /** The call is over: a waiting submission ends instead of waiting forever. */
  close(): void {
    this.closed = true;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve();
  }

  /** The source, pulled one task at a time as the gate admits it; ends when the gate closes. */
  async *gated<T>(source: TaskSource<T>): AsyncGenerator<T, void, undefined> {
    const iterator =
      Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
    let position = 0;
    let exhausted = false;
    try {
      for (;;) {
        const admitted = this.admit(position);
        if (admitted) await admitted;
        if (this.closed) return;
        const step = await iterator.next();
        if (step.done) {
          exhausted = true;
          return;
        }
        yield step.value;
        position += 1;
      }
    } finally {
      if (!exhausted) await iterator.return?.();
    }
  }
}

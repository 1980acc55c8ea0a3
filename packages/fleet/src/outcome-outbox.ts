import { creditFrame, outcomesFrame } from './frames.js';

/** Outcomes in one frame at most (the server takes up to 64 MB; keep frames modest). */
const MAX_ITEMS_PER_FRAME = 1000;
const MAX_CHARS_PER_FRAME = 1_000_000;

/**
 * A connection's outgoing outcomes and the credit they free: batched one frame per burst,
 * each frame carrying the slots freed since the last one (a bare `credit` frame when slots
 * came back without an outcome: cancelled or handed-back tasks).
 */
export class OutcomeOutbox {
  private items: string[] = [];
  private chars = 0;
  private credit = 0;
  private flushScheduled = false;

  /**
   * @param send sends one frame
   * @param held true while nothing may be sent (the connection is closed, or the worker frozen)
   * @param before runs first on every flush: reports go before the outcomes they precede
   */
  constructor(
    private readonly send: (frame: string) => void,
    private readonly held: () => boolean,
    private readonly before?: () => void,
  ) {}

  /** One outcome's JSON text; its task's slot comes back with it. */
  push(item: string): void {
    this.items.push(item);
    this.chars += item.length;
    this.credit++;
    if (this.items.length >= MAX_ITEMS_PER_FRAME || this.chars >= MAX_CHARS_PER_FRAME) {
      this.flush();
    }
  }

  /** Slots that come back with no outcome. */
  returnSlots(slots: number): void {
    this.credit += slots;
  }

  /** Sends what is waiting: outcomes (carrying the freed credit), or a bare `credit` frame. */
  flush(): void {
    if (this.held()) return;
    this.before?.();
    if (this.items.length > 0) {
      const items = this.items;
      this.items = [];
      this.chars = 0;
      this.send(outcomesFrame(this.credit, items));
      this.credit = 0;
    } else if (this.credit > 0) {
      this.send(creditFrame(this.credit));
      this.credit = 0;
    }
  }

  /** Outcomes finished in one turn of the event loop share a frame. */
  flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** The connection is gone: nothing waiting is sent. */
  clear(): void {
    this.items = [];
    this.chars = 0;
    this.credit = 0;
  }
}

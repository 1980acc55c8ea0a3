/** Outcomes wait at most this long for company before going to the server... */
export const FLUSH_DELAY_MS = 5;
/** ...or go at once when this many are waiting (fewer for a small grant; see flushAt). */
export const FLUSH_AT_ITEMS = 512;

/**
 * How many waiting outcomes trigger an immediate flush for a tab granting `capacity` slots.
 * Each waiting outcome is a slot the server cannot use, so a quarter of the grant is the most
 * we park: with tiny tasks a full 5 ms wait would otherwise cap throughput at capacity / 5 ms.
 */
export function flushThreshold(capacity: number): number {
  return Math.max(16, Math.min(FLUSH_AT_ITEMS, Math.floor(capacity / 4)));
}

/**
 * Outcomes waiting to go to the server, plus the slots to grant with them, flushed as one
 * frame every few ms. Outcomes arrive as finished JSON texts (built inside the threads), so a
 * frame is one string concatenation: the page never re-serialises results on its hot path.
 */
export class OutcomeBuffer {
  /** Runs of outcome texts, each already joined by commas. */
  private pieces: string[] = [];
  private waiting = 0;
  private credit = 0;
  private scheduled = false;
  /** Waiting outcomes that trigger an immediate flush. */
  flushAt = FLUSH_AT_ITEMS;
  /** Created on first use: only hidden tabs need it. */
  private wake: MessageChannel | undefined;

  constructor(
    private readonly send: (frame: string) => void,
    private readonly isVisible: () => boolean = () => document.visibilityState === 'visible',
    /** While more outcomes are coming, wait a little to batch them; when idle, send at once. */
    private readonly moreComing: () => boolean = () => true,
  ) {}

  /** Outcomes waiting. */
  get size(): number {
    return this.waiting;
  }

  /** `count` outcomes: protocol JSON texts joined by commas. */
  add(outcomes: string, count: number): void {
    if (count <= 0) return;
    this.pieces.push(outcomes);
    this.waiting += count;
    if (this.waiting >= this.flushAt) this.flush();
    else this.schedule();
  }

  /** Grants slots with the next frame. */
  addCredit(slots: number): void {
    if (slots <= 0) return;
    this.credit += slots;
    this.schedule();
  }

  /** Removes and returns the credit not sent yet (pausing keeps it back). */
  takeCredit(): number {
    const credit = this.credit;
    this.credit = 0;
    return credit;
  }

  /** Sends what is waiting now: outcomes (carrying the credit), or a bare `credit` frame. */
  flush(): void {
    const frame = this.takeFrame();
    if (frame !== undefined) this.send(frame);
  }

  /** The next frame, emptying the buffer; undefined when there is nothing to say. */
  takeFrame(): string | undefined {
    const credit = this.takeCredit();
    if (this.waiting > 0) {
      const pieces = this.pieces;
      this.pieces = [];
      this.waiting = 0;
      return `{"type":"outcomes","credit":${credit},"items":[${pieces.join(',')}]}`;
    }
    return credit > 0 ? JSON.stringify({ type: 'credit', slots: credit }) : undefined;
  }

  clear(): void {
    this.pieces = [];
    this.waiting = 0;
    this.credit = 0;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Hidden tabs get timers throttled to once a second or worse; message events are not. An
    // idle tab sends at once too: a lone task's latency is not worth batching.
    // Decided in a microtask, once the caller has finished updating what is still running.
    queueMicrotask(() => {
      if (!this.moreComing()) this.tick();
      else if (this.isVisible()) setTimeout(() => this.tick(), FLUSH_DELAY_MS);
      else this.wakeChannel().port2.postMessage(null);
    });
  }

  private wakeChannel(): MessageChannel {
    if (!this.wake) {
      this.wake = new MessageChannel();
      this.wake.port1.onmessage = () => this.tick();
    }
    return this.wake;
  }

  private tick(): void {
    this.scheduled = false;
    this.flush();
  }
}

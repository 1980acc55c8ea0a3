import { attachedFrame } from '@tabgrid/protocol/attached-frame';
import { WORKER_LIMITS } from '@tabgrid/protocol/worker';
import { toTextFormOutcomes } from '../sandbox/attached-outcomes';
import { MAX_FRAME_ITEMS_BYTES, utf8Length } from '@tabgrid/job-runtime/outcome-limits';

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
 *
 * What waits always fits in one frame the server accepts: at most `WORKER_LIMITS.maxItems`
 * outcomes and {@link MAX_FRAME_ITEMS_BYTES} of UTF-8 text (a frame carrying typed arrays goes
 * binary, made from this text and smaller for any array of a few bytes or more). An outcome
 * that would not fit is sent first with what waits before it, and one that fits in no frame
 * (only a subverted thread builds one: see outcome-limits.ts) becomes an error outcome.
 */
export class OutcomeBuffer {
  /** Runs of outcome texts, each already joined by commas. */
  private pieces: string[] = [];
  private waiting = 0;
  /** An upper bound of the UTF-8 bytes of `pieces` joined by commas. */
  private bytes = 0;
  private credit = 0;
  private scheduled = false;
  /** Waiting outcomes that trigger an immediate flush. */
  flushAt = FLUSH_AT_ITEMS;
  /** Created on first use: only hidden tabs need it. */
  private wake: MessageChannel | undefined;

  constructor(
    private readonly send: (frame: string | Uint8Array) => void,
    private readonly isVisible: () => boolean = () => document.visibilityState === 'visible',
    /** While more outcomes are coming, wait a little to batch them; when idle, send at once. */
    private readonly moreComing: () => boolean = () => true,
  ) {}

  /** Outcomes waiting. */
  get size(): number {
    return this.waiting;
  }

  /**
   * `count` outcomes: protocol JSON texts joined by commas. With `attachments` (their typed
   * arrays' bytes, checked against their tags: results-check.ts), they go at once as a binary
   * frame of their own, after what waits: their tags point into these bytes only.
   */
  add(outcomes: string, count: number, attachments?: ArrayBuffer[]): void {
    if (count <= 0) return;
    if (attachments !== undefined) {
      this.sendAttached(outcomes, count, attachments);
      return;
    }
    // Three bytes per UTF-16 unit at most: exact counting only when the bound is not enough.
    let bytes = outcomes.length * 3;
    if (this.bytes + 1 + bytes > MAX_FRAME_ITEMS_BYTES) bytes = utf8Length(outcomes);
    if (bytes <= MAX_FRAME_ITEMS_BYTES && count <= WORKER_LIMITS.maxItems) {
      this.push(outcomes, count, bytes);
    } else {
      // Too much for one frame (big results): outcome by outcome. Rare, so a scan is fine.
      for (const one of splitOutcomes(outcomes)) {
        const size = utf8Length(one);
        if (size <= MAX_FRAME_ITEMS_BYTES) {
          this.push(one, 1, size);
        } else {
          const replaced = oversize(one);
          if (replaced !== undefined) this.push(replaced, 1, utf8Length(replaced));
        }
      }
    }
    if (this.waiting >= this.flushAt) this.flush();
    else this.schedule();
  }

  /** Adds a run of outcomes that fits in a frame, sending what waits first if both would not. */
  private push(outcomes: string, count: number, bytes: number): void {
    if (
      this.waiting > 0 &&
      (this.waiting + count > WORKER_LIMITS.maxItems ||
        this.bytes + 1 + bytes > MAX_FRAME_ITEMS_BYTES)
    ) {
      this.flush();
    }
    this.pieces.push(outcomes);
    this.bytes += (this.waiting > 0 ? 1 : 0) + bytes;
    this.waiting += count;
  }

  private sendAttached(outcomes: string, count: number, attachments: ArrayBuffer[]): void {
    let bytes = 0;
    for (const buffer of attachments) bytes += buffer.byteLength;
    // The thread ends a message before it outgrows a frame; a subverted one's goes the slow way.
    if (count > WORKER_LIMITS.maxItems || utf8Length(outcomes) + bytes > MAX_FRAME_ITEMS_BYTES) {
      const text = toTextFormOutcomes(outcomes, attachments);
      if (text !== undefined) this.add(text, count);
      return;
    }
    this.flush();
    const header = `{"type":"outcomes","credit":${this.takeCredit()},"items":[${outcomes}]}`;
    this.send(attachedFrame(header, attachments));
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
      this.bytes = 0;
      return `{"type":"outcomes","credit":${credit},"items":[${pieces.join(',')}]}`;
    }
    return credit > 0 ? JSON.stringify({ type: 'credit', slots: credit }) : undefined;
  }

  clear(): void {
    this.pieces = [];
    this.waiting = 0;
    this.bytes = 0;
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

/**
 * Outcome texts joined by commas → each outcome's text: split at the commas outside strings and
 * outside any brackets (the texts were checked to be JSON outcome objects: outcome-check.ts).
 */
export function splitOutcomes(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = endOfString(text, i);
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (c === 0x2c && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** Index of the quote closing the string opened at `open` (text.length if it never closes). */
function endOfString(text: string, open: number): number {
  let close = text.indexOf('"', open + 1);
  while (close !== -1) {
    let slashes = 0;
    while (text.charCodeAt(close - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) return close;
    close = text.indexOf('"', close + 1);
  }
  return text.length;
}

/**
 * An outcome too large for any frame (the thread runtime refuses such results, so its realm
 * was subverted) → an error outcome of the same task.
 */
function oversize(text: string): string | undefined {
  let outcome: { jobId: string; index: number; ms: number };
  try {
    outcome = JSON.parse(text) as typeof outcome;
  } catch {
    // Not reachable for texts checkOutcomes passed; the server's lease expiry re-runs the task.
    console.error('[tabgrid] dropped an oversized outcome that is not JSON');
    return undefined;
  }
  const { jobId, index, ms } = outcome;
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
  const error = {
    name: 'ResultTooLarge',
    message:
      `The outcome weighs ${mb(utf8Length(text))}, more than a frame may carry ` +
      `(${mb(MAX_FRAME_ITEMS_BYTES)}, WORKER_LIMITS.maxFrameBytes); the page did not send it. ` +
      'Return less, or split the task into smaller ones.',
    stack: '',
  };
  return JSON.stringify({ jobId, index, ms, ok: false, error });
}

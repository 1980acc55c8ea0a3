import type { Range, Rng } from './random.js';

/** After an unexpected close, reconnect delays double per failed attempt up to this. */
const MAX_RECONNECT_MS = 30_000;

/**
 * When a dropped worker comes back: after a delay drawn from a range, doubled per connection
 * attempt in a row that failed, capped; a frozen worker waits until it is woken up.
 */
export class ReconnectTimer {
  private timer: NodeJS.Timeout | undefined;
  /** Dropped while frozen: reconnect on waking up. */
  private whenThawed = false;

  constructor(
    private readonly rng: Rng,
    private readonly connect: () => void,
  ) {}

  /** Reconnects after a delay from `range`, backed off by `failures`; or on thawing if `frozen`. */
  schedule(range: Range, failures: number, frozen: boolean): void {
    if (frozen) {
      this.whenThawed = true;
      return;
    }
    const backoff = 2 ** Math.min(failures, 8);
    const delay = Math.min(this.rng.pick(range) * backoff, MAX_RECONNECT_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delay);
  }

  /** The worker woke up: reconnects now if a reconnect was waiting for that. */
  thawed(): void {
    if (this.whenThawed) {
      this.whenThawed = false;
      this.connect();
    }
  }

  clear(): void {
    this.whenThawed = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

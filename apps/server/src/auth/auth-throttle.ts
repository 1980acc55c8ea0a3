import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';

export interface AuthThrottleOptions {
  /** Failed authentications an address may make per window. */
  maxFailures?: number;
  windowMs?: number;
  /** Addresses tracked at once; the oldest window is forgotten first. */
  maxAddresses?: number;
  now?: () => number;
}

export const AUTH_THROTTLE_DEFAULTS = {
  maxFailures: 20,
  windowMs: 10_000,
  maxAddresses: 100_000,
} as const;

interface Window {
  start: number;
  failures: number;
}

/**
 * Counts failed authentications per remote address in fixed windows. Once an address has failed
 * `maxFailures` times in a window, it is refused (429, `Retry-After`) until the window ends, even
 * with a valid secret: guessing secrets costs the guesser a window per 20 tries.
 */
export class AuthThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(options: AuthThrottleOptions = {}) {
    this.maxFailures = options.maxFailures ?? AUTH_THROTTLE_DEFAULTS.maxFailures;
    this.windowMs = options.windowMs ?? AUTH_THROTTLE_DEFAULTS.windowMs;
    this.maxAddresses = options.maxAddresses ?? AUTH_THROTTLE_DEFAULTS.maxAddresses;
    this.now = options.now ?? Date.now;
  }

  /** Seconds `address` must wait before trying again, or 0 when it may try now. */
  retryAfter(address: string): number {
    const window = this.current(address);
    if (!window || window.failures < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((window.start + this.windowMs - this.now()) / 1000));
  }

  /** Throws TG_ERR_RATE_LIMITED (with `retryAfter`) when `address` is blocked. */
  check(address: string): void {
    const wait = this.retryAfter(address);
    if (wait > 0) throw rateLimited(wait);
  }

  failed(address: string): void {
    let window = this.current(address);
    if (!window) {
      if (this.windows.size >= this.maxAddresses) this.forgetOldest();
      window = { start: this.now(), failures: 0 };
      this.windows.set(address, window);
    }
    window.failures++;
  }

  private current(address: string): Window | undefined {
    const window = this.windows.get(address);
    if (window && this.now() - window.start >= this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  /** Maps keep insertion order: the first entry has the oldest window. */
  private forgetOldest(): void {
    const oldest = this.windows.keys().next();
    if (!oldest.done) this.windows.delete(oldest.value);
  }
}

/** TG_ERR_RATE_LIMITED carrying how long to wait; the HTTP layer turns it into `Retry-After`. */
export class RateLimitedError extends TabgridError {
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(ErrorCode.RATE_LIMITED, message);
  }
}

function rateLimited(seconds: number): RateLimitedError {
  return new RateLimitedError(
    seconds,
    `Too many failed authentications from this address: wait ${seconds} s (Retry-After) and check the token.`,
  );
}

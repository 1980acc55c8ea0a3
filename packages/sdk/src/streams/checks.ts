/**
 * Bounds of the numbers the stream and pool verbs take from their caller: a NaN or a negative
 * size would otherwise stall a loop or let it run unbounded, silently.
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';

/**
 * `value` if it is an integer from `min` up to `Number.MAX_SAFE_INTEGER`, else a
 * `TG_ERR_INVALID_REQUEST` naming `what`.
 *
 * @example
 * countOption('take(count)', 10, 0); // 10
 * countOption('batch(size)', NaN, 1); // throws
 */
export function countOption(what: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TabgridError(
      ErrorCode.INVALID_REQUEST,
      `${what} must be an integer ≥ ${min}, got ${String(value)}.`,
    );
  }
  return value;
}

/** `value` if it is a finite number of milliseconds ≥ 0 (or absent), else TG_ERR_INVALID_REQUEST. */
export function msOption(what: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0) {
    throw new TabgridError(
      ErrorCode.INVALID_REQUEST,
      `${what} must be a number of milliseconds ≥ 0, got ${String(value)}.`,
    );
  }
  return value;
}

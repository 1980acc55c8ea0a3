import { expect, it } from 'vitest';
import { AuthThrottle, RateLimitedError } from './auth-throttle.js';

it('blocks an address after 20 failures in 10 s, for the rest of the window, with Retry-After', () => {
  let now = 1_000_000;
  const throttle = new AuthThrottle({ now: () => now });
  for (let i = 0; i < 19; i++) throttle.failed('10.0.0.1');
  expect(throttle.retryAfter('10.0.0.1')).toBe(0);
  throttle.failed('10.0.0.1');
  expect(throttle.retryAfter('10.0.0.1')).toBe(10);
  expect(() => throttle.check('10.0.0.1')).toThrow(RateLimitedError);
  // Other addresses are not affected.
  expect(throttle.retryAfter('10.0.0.2')).toBe(0);
  now += 6_500;
  expect(throttle.retryAfter('10.0.0.1')).toBe(4);
  now += 3_500;
  expect(throttle.retryAfter('10.0.0.1')).toBe(0);
  throttle.check('10.0.0.1');
});

it('forgets the oldest address first when it tracks its maximum', () => {
  const throttle = new AuthThrottle({ maxAddresses: 2, maxFailures: 1, now: () => 5 });
  throttle.failed('a');
  throttle.failed('b');
  throttle.failed('c');
  expect(throttle.retryAfter('a')).toBe(0);
  expect(throttle.retryAfter('b')).toBeGreaterThan(0);
  expect(throttle.retryAfter('c')).toBeGreaterThan(0);
});

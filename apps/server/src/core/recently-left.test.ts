import { expect, it } from 'vitest';
import { LEFT_GRACE_MS, MAX_LEFT, RecentlyLeft } from './recently-left.js';

it(`remembers at most ${MAX_LEFT} jobs per connection, each for ${LEFT_GRACE_MS / 1000} s`, () => {
  const left = new RecentlyLeft();
  for (let i = 0; i <= MAX_LEFT; i++) left.add(`j${i}`, 1000);
  expect(left.has('j0', 1000)).toBe(false); // the oldest went first
  expect(left.has('j1', 1000)).toBe(true);
  expect(left.has(`j${MAX_LEFT}`, 1000 + LEFT_GRACE_MS - 1)).toBe(true);
  expect(left.has(`j${MAX_LEFT}`, 1000 + LEFT_GRACE_MS)).toBe(false);
  expect(left.has('never', 1000)).toBe(false);
});

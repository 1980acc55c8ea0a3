import { describe, expect, it } from 'vitest';
import { DutyCycle } from './duty-cycle';
import type { PoolThread } from './pool-thread';

/** A clock and a rest timer the test moves by hand. */
function setup(duty: number) {
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  let wakes = 0;
  const cycle = new DutyCycle(
    () => wakes++,
    { after: (ms, fn) => void timers.push({ at: now + ms, fn }) },
    () => now,
  );
  cycle.set(duty);
  const thread = { restUntil: 0, overslept: 0, dispatchedAt: 0 } as PoolThread;
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.splice(0)) (t.at <= now ? t.fn : () => timers.push(t))();
  };
  return { cycle, thread, advance, wakes: () => wakes, at: (t: number) => (now = t) };
}

describe('DutyCycle', () => {
  it('rests a thread 3x as long as its chunk ran at a 25% cap, and wakes the pool once', () => {
    const { cycle, thread, advance, wakes } = setup(0.25);
    advance(40); // the chunk ran 40 ms
    cycle.chunkDone(thread);
    expect(cycle.resting(thread)).toBe(true);
    advance(119);
    expect(wakes()).toBe(0);
    expect(cycle.resting(thread)).toBe(true);
    advance(1);
    expect(wakes()).toBe(1);
    expect(cycle.resting(thread)).toBe(false);
  });

  it('takes a late wake-up off the next rest, so the long-run share stays at the cap', () => {
    const { cycle, thread, advance } = setup(0.5);
    advance(50);
    cycle.chunkDone(thread); // owes 50 ms
    advance(80); // woken 30 ms late
    expect(cycle.resting(thread)).toBe(false);
    thread.dispatchedAt = 130;
    advance(50);
    cycle.chunkDone(thread); // owes 50 ms, 30 of them already rested
    expect(thread.restUntil).toBe(180 + 20);
  });

  it('never rests at 100%', () => {
    const { cycle, thread, advance } = setup(1);
    advance(50);
    cycle.chunkDone(thread);
    expect(cycle.resting(thread)).toBe(false);
  });
});

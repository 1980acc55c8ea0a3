import { describe, expect, it } from 'vitest';
import { FramePump, MAX_INBOX_BYTES } from './frame-pump.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('FramePump', () => {
  it('reads connections round-robin, each in arrival order', async () => {
    const read: string[] = [];
    const pump = new FramePump(1_000);
    const a = pump.inbox<string>((frame) => read.push(frame));
    const b = pump.inbox<string>((frame) => read.push(frame));
    for (const frame of ['a1', 'a2', 'a3']) a.push(frame, 1);
    for (const frame of ['b1', 'b2']) b.push(frame, 1);
    expect(read).toEqual([]); // never in the caller's turn
    await turn();
    await turn();
    expect(read).toEqual(['a1', 'b1', 'a2', 'b2', 'a3']);
    expect(a.empty && b.empty).toBe(true);
  });

  it('yields to the event loop once a slice is used up', async () => {
    let now = 0;
    const read: number[] = [];
    const pump = new FramePump(5, () => now);
    const inbox = pump.inbox<number>((frame) => {
      now += 3; // each frame takes 3 ms to read
      read.push(frame);
    });
    for (let i = 0; i < 5; i++) inbox.push(i, 1);
    await turn();
    expect(read).toEqual([0, 1]); // 6 ms: past the 5 ms slice
    await turn();
    expect(read).toEqual([0, 1, 2, 3]);
    await turn();
    expect(read).toEqual([0, 1, 2, 3, 4]);
  });

  it('bounds what one connection may have waiting, and drops it when the connection closes', async () => {
    const read: string[] = [];
    const pump = new FramePump();
    const inbox = pump.inbox<string>((frame) => read.push(frame));
    expect(inbox.push('big', MAX_INBOX_BYTES - 10)).toBe(true);
    expect(inbox.push('over', 11)).toBe(false);
    expect(inbox.push('fits', 10)).toBe(true);
    inbox.clear();
    expect(inbox.empty).toBe(true);
    await turn();
    expect(read).toEqual([]);
    expect(inbox.push('again', MAX_INBOX_BYTES)).toBe(true); // its bytes were given back
  });
});

/**
 * The generators behind the fuzz suite: the same seed replays the same attack, and frames sold
 * as invalid really are refused by the protocol's own decoder (else the suite would count
 * harmless frames as hostile ones).
 */
import { describe, expect, it } from 'vitest';
import { decodeWorkerToServer } from '@tabgrid/protocol/worker';
import { Rng } from '../random.js';
import { badJson, deepJson, garbageBinary, garbageText } from './malformed-frames.js';

function decodes(frame: string | Uint8Array): boolean {
  try {
    decodeWorkerToServer(frame);
    return true;
  } catch {
    return false;
  }
}

describe('malformed frame generators', () => {
  it('replay the same frames from the same seed, and others from another', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 200 }, () => [
        badJson(rng),
        garbageText(rng),
        Buffer.from(garbageBinary(rng)).toString('hex'),
      ]);
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('make random bytes and text that the protocol refuses, every one', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 2_000; i++) {
      expect(decodes(garbageBinary(rng))).toBe(false);
      expect(decodes(garbageText(rng))).toBe(false);
    }
  });

  it('make mostly invalid JSON frames, with a few odd but valid ones among them', () => {
    const rng = new Rng(5);
    const frames = Array.from({ length: 5_000 }, () => badJson(rng));
    const valid = frames.filter(decodes).length;
    // Whitespace around a frame or an escaped key is still a frame: those probe the parser.
    expect(valid).toBeGreaterThan(0);
    expect(valid / frames.length).toBeLessThan(0.15);
  });

  it('nest values exactly as deep as asked', () => {
    let depth = 0;
    let value: unknown = JSON.parse(deepJson(3_500));
    while (Array.isArray(value)) {
      depth++;
      value = value[0];
    }
    expect(depth).toBe(3_500);
    expect(deepJson(2, 'object')).toBe('{"a":{"a":1}}');
  });
});

import { describe, expect, it } from 'vitest';
import { attachedFrame, attachedTagsProblem } from './attached-frame.js';
import { decodeBinaryFrame } from './binary-frame.js';
import { fromSocketForm } from './bytes.js';

const tag = (kind: string, at: number, length: number) => ({ '$tabgrid.bytes': kind, at, length });
const buffer = (...bytes: number[]) => new Uint8Array(bytes).buffer;

describe('attached frames (issue 18)', () => {
  it('writes a frame that decodes to the same values, in the text and the socket form', () => {
    const floats = new Float32Array([1.5, -2]);
    const items = [{ v: tag('Float32Array', 0, 8) }, { raw: tag('Uint8Array', 8, 3) }];
    const header = JSON.stringify({ type: 'outcomes', credit: 2, items });
    const frame = attachedFrame(header, [floats.buffer, buffer(7, 8, 9)]);
    const text = decodeBinaryFrame(frame) as { items: { v?: unknown; raw?: unknown }[] };
    expect(text.items[0]!.v).toEqual({ '$tabgrid.bytes': 'Float32Array', base64: 'AADAPwAAAMA=' });
    const socket = decodeBinaryFrame(frame, undefined, 'socket') as typeof text;
    expect(fromSocketForm(socket.items)).toEqual([
      { v: floats },
      { raw: new Uint8Array([7, 8, 9]) },
    ]);
  });

  it('finds the tags a decoder would refuse', () => {
    expect(attachedTagsProblem([{ v: tag('Float32Array', 0, 8) }], 8)).toBeUndefined();
    expect(attachedTagsProblem([{ v: tag('Float32Array', 0, 6) }], 6)).toMatch(/whole number/);
    expect(attachedTagsProblem([{ v: tag('Float16Array', 0, 8) }], 8)).toMatch(/unknown kind/);
    expect(
      attachedTagsProblem([{ v: { '$tabgrid.bytes': 'Uint8Array', base64: 'AA==' } }], 0),
    ).toMatch(/offsets/);
    expect(attachedTagsProblem([[tag('Uint8Array', 0, 4), tag('Uint8Array', 2, 4)]], 6)).toMatch(
      /overlap/,
    );
    expect(attachedTagsProblem([tag('Uint8Array', 0, 4)], 6)).toMatch(/no tag uses/);
    expect(attachedTagsProblem([tag('Uint8Array', 4, 4)], 6)).toMatch(/past the end|no tag uses/);
  });
});

import { describe, expect, it } from 'vitest';
import { decodeBinaryFrame } from './binary-frame.js';
import { BYTES_TAG, fromSocketForm, parseWithBytes, toSocketForm, toTextForm } from './bytes.js';
import {
  carriedText,
  carriesBytes,
  frameOf,
  packText,
  packValue,
  unpackValue,
} from './packed-value.js';

const value = {
  a: new Float32Array([1.5, -2, 3]),
  nested: [{ b: new Uint8Array([1, 2, 255]) }, 'text', 7],
  c: new BigInt64Array([-1n, 2n ** 62n]),
  empty: new Int16Array(0),
};

describe('packed values (bytes as bytes inside the server)', () => {
  it('keep plain JSON as its text, unchanged', () => {
    expect(packValue({ x: [1, 'a'] })).toBe('{"x":[1,"a"]}');
    expect(packValue(undefined)).toBe('null');
    expect(carriesBytes('{"x":1}')).toBe(false);
  });

  it('pack live, socket-form and text-form values alike, and give each form back', () => {
    const live = packValue(value);
    expect(live).toBeInstanceOf(Uint8Array);
    expect(packValue(toSocketForm(value))).toEqual(live);
    expect(packValue(toTextForm(value))).toEqual(live);
    expect(packText(JSON.stringify(toTextForm(value)))).toEqual(live);
    expect(fromSocketForm(unpackValue(live))).toEqual(value);
    expect(parseWithBytes(carriedText(live))).toEqual(value);
    expect(JSON.parse(carriedText(live))).toEqual(toTextForm(value));
  });

  it('hold the raw bytes, not base64: the packed value weighs about the arrays plus a header', () => {
    const big = new Float32Array(1 << 18); // 1 MB
    const packed = packValue({ m: big }) as Uint8Array;
    expect(packed.length).toBeLessThan(big.byteLength + 100);
  });

  it('lay values into one binary frame whose decoder gives every value back', () => {
    const inputs = [packValue(value), '5', packValue([new Uint8Array([9])]), '{"k":"v"}'];
    const frame = frameOf(inputs, (jsons) => `{"items":[${jsons.join(',')}]}`);
    expect(frame).toBeInstanceOf(Uint8Array);
    const decoded = decodeBinaryFrame(frame as Uint8Array) as { items: unknown[] };
    expect(parseWithBytes(JSON.stringify(decoded.items))).toEqual([
      value,
      5,
      [new Uint8Array([9])],
      { k: 'v' },
    ]);
    // Without bytes it stays text.
    expect(frameOf(['1', '2'], (jsons) => `[${jsons.join(',')}]`)).toBe('[1,2]');
  });

  it('take text with base64 tags (rows stored before schema 5) into a frame as bytes', () => {
    const old = JSON.stringify(toTextForm({ v: new Uint16Array([1, 65535]) }));
    const frame = frameOf([old], (jsons) => `[${jsons[0]}]`) as Uint8Array;
    expect(parseWithBytes(JSON.stringify(decodeBinaryFrame(frame)))).toEqual([
      { v: new Uint16Array([1, 65535]) },
    ]);
  });

  it('refuse forged tags and an attachment named twice, as the text form does', () => {
    expect(() => packValue({ [BYTES_TAG]: 'Float32Array', base64: 'AAA' })).toThrow(
      /not a whole number|malformed/,
    );
    expect(() => packValue({ [BYTES_TAG]: 'Nope', data: new Uint8Array(1) })).toThrow(
      /unknown kind/,
    );
    const shared = new Uint8Array(4);
    expect(() =>
      packValue(
        [
          { [BYTES_TAG]: 'Uint8Array', data: shared },
          { [BYTES_TAG]: 'Uint8Array', data: shared },
        ],
        new Set(),
      ),
    ).toThrow(/same binary attachment twice/);
  });
});

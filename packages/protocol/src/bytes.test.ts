import { describe, expect, it } from 'vitest';
import {
  BYTES_TAG,
  containsBytes,
  fromSocketForm,
  parseWithBytes,
  socketFormToJson,
  stringifyWithBytes,
  textToSocketForm,
  toSocketForm,
} from './bytes.js';

const samples = [
  new Float64Array([1.5, -2.25, Math.PI]),
  new Float32Array([0.5, 8]),
  new Int8Array([-1, 2]),
  new Uint8Array([0, 255, 7]),
  new Uint8ClampedArray([9]),
  new Int16Array([-300]),
  new Uint16Array([65535]),
  new Int32Array([-70000]),
  new Uint32Array([4e9]),
  new BigInt64Array([-5n]),
  new BigUint64Array([2n ** 63n]),
  new Uint8Array([1, 2, 3]).buffer,
];

/** Server side of a socket.io hop: attachments arrive as Buffers. */
const asReceived = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, (_key, item: unknown) => item),
    (_key, item: unknown) => item,
  );

describe('bytes', () => {
  it('round-trips every kind, nested, through socket → text → socket → live', () => {
    for (const sample of samples) {
      const value = { name: 'x', data: [sample, { deep: sample }], n: 1 };
      const socket = toSocketForm(value) as { data: [{ data: unknown }] };
      expect(socket.data[0].data).toBeInstanceOf(Uint8Array); // sent as a binary attachment
      const text = socketFormToJson(socket);
      expect(text).toContain(`"${BYTES_TAG}":"${sample.constructor.name}"`);
      expect(text).not.toContain('"0":'); // no byte-by-byte objects
      const pushed = textToSocketForm(JSON.parse(text));
      expect(fromSocketForm(pushed)).toEqual(value);
      // A worker reads the text form and writes its result in it.
      const live = parseWithBytes(text);
      expect(live).toEqual(value);
      expect(parseWithBytes(stringifyWithBytes(live)!)).toEqual(value);
    }
  });

  it('keeps the kind of a view on part of a bigger buffer, copying only its bytes', () => {
    const whole = new Float64Array([1, 2, 3, 4]);
    const part = whole.subarray(1, 3);
    const back = parseWithBytes(stringifyWithBytes(part)!) as Float64Array;
    expect(back).toBeInstanceOf(Float64Array);
    expect([...back]).toEqual([2, 3]);
    expect(back.buffer.byteLength).toBe(16);
  });

  it('accepts Buffers (what socket.io hands a Node server) as Uint8Array bytes', () => {
    const received = {
      [BYTES_TAG]: 'Float64Array',
      data: Buffer.from(new Float64Array([7]).buffer),
    };
    expect(fromSocketForm(JSON.parse(socketFormToJson(received)))).toEqual(new Float64Array([7]));
    expect(socketFormToJson(Buffer.from([1, 2]))).toBe(
      JSON.stringify({ [BYTES_TAG]: 'Uint8Array', base64: 'AQI=' }),
    );
  });

  it('leaves plain JSON untouched, and shares it', () => {
    const plain = { a: [1, 'two', null], when: new Date(0) };
    expect(containsBytes(plain)).toBe(false);
    expect(toSocketForm(plain)).toBe(plain);
    expect(socketFormToJson(plain)).toBe(JSON.stringify(plain));
    expect(socketFormToJson(undefined)).toBe('null');
    expect(parseWithBytes('[1,{"a":2}]')).toEqual([1, { a: 2 }]);
    expect(asReceived(plain)).toEqual(JSON.parse(JSON.stringify(plain)));
  });

  it('accepts the text form from clients that write JSON (REST)', () => {
    const text = { [BYTES_TAG]: 'Int8Array', base64: '/wI=' };
    expect(socketFormToJson({ a: text })).toBe(JSON.stringify({ a: text }));
    expect(fromSocketForm(text)).toEqual(new Int8Array([-1, 2]));
  });

  it('refuses values that use the reserved key themselves', () => {
    expect(() => toSocketForm({ [BYTES_TAG]: 'mine', also: new Uint8Array(1) })).toThrow(
      /reserved key/,
    );
    expect(() => socketFormToJson({ [BYTES_TAG]: 'Float64Array', data: 'nope' })).toThrow(
      /TG_ERR_INVALID_TASK|reserved key/,
    );
    expect(() => fromSocketForm({ [BYTES_TAG]: 'Weird', base64: '' })).toThrow(/unknown kind/);
  });
});

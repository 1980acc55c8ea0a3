import { describe, expect, it } from 'vitest';
import {
  jsonByteLength,
  BYTES_TAG,
  containsBytes,
  fromSocketForm,
  mapDeep,
  parseWithBytes,
  socketFormToJson,
  stringifyWithBytes,
  textToSocketForm,
  toSocketForm,
  toTextForm,
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
    // Text-form tags from REST clients must decode, or they would fail later, where they are read.
    expect(() => socketFormToJson({ [BYTES_TAG]: 'Int16Array', base64: 'AQID' })).toThrow(
      /3 bytes are not a whole number of Int16Array elements/,
    );
    expect(() => socketFormToJson({ [BYTES_TAG]: 'Uint8Array', base64: '%%%%' })).toThrow(
      /TG_ERR_INVALID_TASK|base64 is malformed/,
    );
  });
});

describe('walking values', () => {
  /** 10,000 arrays deep, with a typed array at the bottom when asked. */
  function deep(withBytes: boolean): unknown {
    let value: unknown = withBytes ? new Uint8Array([1]) : 1;
    for (let i = 0; i < 10_000; i++) value = [value];
    return value;
  }

  it('never overflows the stack, however deep the value', () => {
    expect(containsBytes(deep(false))).toBe(false);
    expect(containsBytes(deep(true))).toBe(true);
    let copy = toTextForm(deep(true));
    for (let i = 0; i < 10_000; i++) copy = (copy as unknown[])[0];
    expect(copy).toEqual({ [BYTES_TAG]: 'Uint8Array', base64: 'AQ==' });
    expect(() => fromSocketForm(toSocketForm(deep(true)))).not.toThrow();
  });

  it('copies arrays and objects in order, keys like __proto__ included, sharing nothing', () => {
    const value = JSON.parse('{"b":1,"__proto__":{"x":[1,2]},"a":[{"c":null},[],"s"]}') as object;
    const copy = mapDeep(value, (item) => item) as Record<string, unknown>;
    expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['b', '__proto__', 'a']);
    expect(copy.a).not.toBe((value as { a: unknown }).a);
  });

  it('does not look into what swap returns', () => {
    const swapped = mapDeep({ a: { keep: { me: 1 } } }, (item) =>
      'keep' in item ? { replaced: [{ keep: 2 }] } : item,
    );
    expect(swapped).toEqual({ a: { replaced: [{ keep: 2 }] } });
  });
});

describe('socket-form values from a hostile client', () => {
  it('refuse one attachment named many times (socket.io placeholders), inside one value', () => {
    const attachment = Buffer.alloc(1024 * 1024);
    const tagged = { [BYTES_TAG]: 'Uint8Array', data: attachment };
    const message = Array.from({ length: 400 }, () => tagged);
    expect(() => socketFormToJson(message)).toThrow(/same binary attachment twice/);
    const twice = [
      { [BYTES_TAG]: 'Uint8Array', data: attachment },
      { [BYTES_TAG]: 'Float64Array', data: attachment },
    ];
    expect(() => socketFormToJson(twice)).toThrow(/TG_ERR_INVALID_TASK|same binary/);
  });

  it('refuse it across the values of one message given one set', () => {
    const attachment = Buffer.alloc(16);
    const task = { [BYTES_TAG]: 'Uint8Array', data: attachment };
    const seen = new Set<object>();
    expect(socketFormToJson(task, seen)).toContain('AAAA');
    expect(() => socketFormToJson(task, seen)).toThrow(/same binary attachment/);
    // Distinct attachments, as an honest client sends them, are fine.
    const honest = [Buffer.alloc(2), Buffer.alloc(2)].map((data) => ({
      [BYTES_TAG]: 'Uint8Array',
      data,
    }));
    expect(() => socketFormToJson(honest)).not.toThrow();
  });

  it('still lets a live value hold one typed array twice (it is its own memory)', () => {
    const shared = new Uint8Array([5]);
    expect(toTextForm([shared, shared])).toEqual([
      { [BYTES_TAG]: 'Uint8Array', base64: 'BQ==' },
      { [BYTES_TAG]: 'Uint8Array', base64: 'BQ==' },
    ]);
  });
});

describe('jsonByteLength', () => {
  const utf8 = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

  it('is the UTF-8 length of the JSON text, on plain ASCII and on text that needs escapes', () => {
    const values = [
      'plain ascii text',
      'x'.repeat(100_000),
      'quote " and backslash \\',
      'tab\tnewline\ncontrol\u0001',
      'é, ✓ and 😀',
      { label: 'loss', values: [1, 2.5, 'three', null, true] },
      ['del \u007f', { kéy: 'välue' }],
    ];
    for (const value of values) expect(jsonByteLength(value, 1e9)).toBe(utf8(value));
  });

  it('is Infinity past the budget', () => {
    expect(jsonByteLength('x'.repeat(1000), 100)).toBe(Infinity);
  });
});

describe('base64 (native where the platform has it)', () => {
  it('round-trips every byte value, at sizes around the fallback chunk', async () => {
    const { base64, unbase64 } = await import('./bytes.js');
    for (const size of [0, 1, 2, 3, 0x8000 + 1, 100_000]) {
      const bytes = new Uint8Array(size).map((_, i) => (i * 131 + 7) & 0xff);
      const text = base64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect([...unbase64(text)]).toEqual([...bytes]);
    }
  });
});

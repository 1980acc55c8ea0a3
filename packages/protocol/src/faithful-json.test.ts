import { describe, expect, it } from 'vitest';
import { ErrorCode } from './errors.js';
import { assertFaithful, faithfulJson } from './faithful-json.js';
import { MAX_VALUE_DEPTH } from './limits.js';

const { unfaithful } = faithfulJson(MAX_VALUE_DEPTH);
const strict = (value: unknown, root = 'tasks', index = 3) => unfaithful(value, root, index, false);
const lossy = (value: unknown, root = 'tasks', index = 3) => unfaithful(value, root, index, true);

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

describe('faithfulJson: what JSON carries', () => {
  it('lets JSON values, typed arrays, ArrayBuffers and DataViews through', () => {
    for (const value of [
      0,
      -1.5,
      'text',
      true,
      null,
      [],
      {},
      [1, 'a', null, { b: [false] }],
      { a: { b: { c: 'd' } } },
      Object.create(null) as unknown,
      new Float64Array(4),
      new Uint8Array(2).buffer,
      new DataView(new ArrayBuffer(8)),
      { bytes: new Int16Array(3), list: [new BigInt64Array(1)] },
      Buffer.from('hi'),
      nested(MAX_VALUE_DEPTH - 1),
    ]) {
      expect(strict(value)).toBeUndefined();
    }
  });

  it('ignores what a polluted Object.prototype adds (JSON leaves it out too)', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = () => 1;
    try {
      expect(strict({ a: { b: 1 } })).toBeUndefined();
      expect(strict({ a: { b: NaN } })).toBe('tasks[3].a.b is NaN: send null, or a string');
    } finally {
      delete proto.polluted;
    }
  });

  it('lets a value shared twice (not a cycle) through', () => {
    const shared = { a: 1 };
    expect(strict({ left: shared, right: shared, list: [shared, shared] })).toBeUndefined();
  });
});

describe('faithfulJson: what it refuses, with the path and what to send instead', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a Date', { when: new Date(0) }, 'tasks[3].when is a Date: send when.toISOString()'],
    [
      'undefined as a property',
      { a: 1, b: undefined },
      'tasks[3].b is undefined: leave the key out, or send null',
    ],
    ['undefined as an element', [1, undefined], 'tasks[3][1] is undefined: send null'],
    // eslint-disable-next-line no-sparse-arrays
    ['an array hole', [1, , 3], 'tasks[3][1] is an array hole: fill it (with null, say)'],
    ['undefined at the root', undefined, 'tasks[3] is undefined: send null'],
    ['NaN', { x: { y: NaN } }, 'tasks[3].x.y is NaN: send null, or a string'],
    ['Infinity', [Infinity], 'tasks[3][0] is Infinity: send null, or a string such as "Infinity"'],
    [
      '-Infinity',
      { low: -Infinity },
      'tasks[3].low is -Infinity: send null, or a string such as "Infinity"',
    ],
    [
      'a function',
      { f: () => 1 },
      'tasks[3].f is a function: only data travels: define functions in the program',
    ],
    ['a symbol', { s: Symbol('s') }, 'tasks[3].s is a symbol: send a string'],
    ['a Map', { m: new Map() }, 'tasks[3].m is a Map: send Object.fromEntries(m) or [...m]'],
    ['a Set', { tags: new Set() }, 'tasks[3].tags is a Set: send [...tags]'],
    ['a RegExp', { re: /a/g }, 'tasks[3].re is a RegExp: send re.source (and re.flags)'],
    [
      'a class instance',
      { at: new Point(1, 2) },
      'tasks[3].at is a Point (a class instance): send a plain object (e.g. { ...at }) and rebuild it where it is used',
    ],
    [
      'a BigInt',
      { n: 10n },
      'tasks[3].n is a BigInt: send n.toString(), or Number(n) when it is below 2^53',
    ],
    [
      'a boxed number',
      { n: Object(1) as unknown },
      'tasks[3].n is a Number object: send n.valueOf()',
    ],
    [
      'a Promise',
      { p: Promise.resolve(1) },
      'tasks[3].p is a Promise: await it, and send what it resolves to',
    ],
  ];
  for (const [kind, value, message] of cases) {
    it(`refuses ${kind}`, () => {
      expect(strict(value)).toBe(message);
    });
  }

  it('names a key that is not an identifier quoted, and the path as the hint name', () => {
    expect(strict({ 'the day': [new Date(0)] })).toBe(
      'tasks[3]["the day"][0] is a Date: send tasks[3]["the day"][0].toISOString()',
    );
    expect(strict(new Date(0), 'result', -1)).toBe('result is a Date: send result.toISOString()');
    expect(strict({ ['k'.repeat(100)]: NaN })).toMatch(/^tasks\[3\]\["k{40}…"\] is NaN/);
  });

  it('refuses a cycle, naming the value it refers back to', () => {
    const a: Record<string, unknown> = { list: [] };
    (a.list as unknown[]).push({ up: a });
    expect(strict(a, 'result', -1)).toBe(
      'result.list[0].up refers back to result (a circular value): send a copy without the cycle',
    );
    const b: Record<string, unknown> = {};
    const c: Record<string, unknown> = { b };
    b.c = c;
    expect(strict({ top: c }, 'args', -1)).toBe(
      'args.top.b.c refers back to args.top (a circular value): send a copy without the cycle',
    );
  });

  it('refuses nesting deeper than the limit without walking further (no stack overflow)', () => {
    expect(strict(nested(MAX_VALUE_DEPTH))).toBeUndefined();
    expect(strict(nested(MAX_VALUE_DEPTH + 1))).toMatch(
      /^tasks\[3\](\[0\]){100} nests deeper than 100 levels of arrays and objects: flatten it/,
    );
    expect(strict(nested(100_000))).toMatch(/nests deeper than 100 levels/);
  });

  it('tells the first fault only', () => {
    expect(strict({ a: NaN, b: new Date() })).toBe('tasks[3].a is NaN: send null, or a string');
  });
});

describe('faithfulJson lossy: only what JSON.stringify cannot convert at all', () => {
  it('lets what JSON.stringify converts through', () => {
    for (const value of [
      { when: new Date(0) },
      { a: undefined, b: NaN, c: Infinity, f: () => 1, s: Symbol('s') },
      [undefined, new Map(), new Set([1])],
      { at: new Point(1, 2) },
    ]) {
      expect(lossy(value)).toBeUndefined();
    }
  });

  it('still refuses BigInts (in class instances too), cycles and depth', () => {
    expect(lossy({ at: { n: 1n } })).toMatch(/^tasks\[3\]\.at\.n is a BigInt/);
    expect(lossy({ p: Object.assign(new Point(1, 2), { big: 2n }) })).toMatch(
      /^tasks\[3\]\.p\.big is a BigInt/,
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(lossy(cyclic)).toMatch(/refers back to tasks\[3\]/);
    expect(lossy(nested(MAX_VALUE_DEPTH + 1))).toMatch(/nests deeper/);
  });

  it('leaves what toJSON makes of an instance to it', () => {
    const big = { toJSON: () => 'x', n: 1n };
    expect(
      lossy(
        new (class Wrapped {
          toJSON() {
            return 'w';
          }
          n = 1n;
        })(),
      ),
    ).toBeUndefined();
    expect(lossy(big)).toMatch(/is a BigInt/); // a plain object's toJSON is just a key
  });
});

describe('assertFaithful', () => {
  it('throws TG_ERR_UNFAITHFUL_VALUE, naming lossy mode where it would help', () => {
    expect(() => assertFaithful({ when: new Date(0) }, 'tasks', 3)).toThrow(
      expect.objectContaining({
        code: ErrorCode.UNFAITHFUL_VALUE,
        status: 400,
        message:
          "tasks[3].when is a Date: send when.toISOString(). To convert such values as JSON.stringify does instead, create the job with values: 'lossy'.",
      }),
    );
    expect(() => assertFaithful({ n: 1n }, 'args')).toThrow(
      'args.n is a BigInt: send n.toString(), or Number(n) when it is below 2^53.',
    );
  });

  it('passes faithful values, and convertible ones in lossy mode', () => {
    expect(() => assertFaithful({ a: [1, 'b'] }, 'args')).not.toThrow();
    expect(() => assertFaithful({ when: new Date(0) }, 'tasks', 0, 'lossy')).not.toThrow();
    expect(() => assertFaithful({ n: 1n }, 'tasks', 0, 'lossy')).toThrow(
      /tasks\[0\]\.n is a BigInt/,
    );
  });
});

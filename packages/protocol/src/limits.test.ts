import { describe, expect, it } from 'vitest';
import { ErrorCode, TabgridError } from './errors.js';
import {
  MAX_DEPTH,
  MAX_VALUE_DEPTH,
  checkDepth,
  checkJsonDepth,
  jsonDepth,
  valueDepth,
} from './limits.js';

/** `depth` arrays, each inside the next, around `inner`. */
function nested(depth: number, inner: unknown = 1): unknown {
  let value = inner;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** The same as JSON text, built without JSON.stringify (which would overflow on deep ones). */
function nestedText(depth: number): string {
  return '['.repeat(depth) + '1' + ']'.repeat(depth);
}

describe('jsonDepth', () => {
  it('counts brackets outside strings, whatever the strings hold', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('[]')).toBe(1);
    expect(jsonDepth('{"a":[{"b":[]}],"c":{}}')).toBe(4);
    expect(jsonDepth('["[[[[", "\\"[[[", "\\\\", {"k]]}": "{{{"}]')).toBe(2);
    expect(jsonDepth(JSON.stringify({ s: 'a\\"[[[["b' }))).toBe(1);
  });

  it('stops at the limit on hostile text', () => {
    expect(jsonDepth(nestedText(10_000), 64)).toBe(Infinity);
    expect(jsonDepth(nestedText(64), 64)).toBe(64);
    expect(jsonDepth('['.repeat(1_000_000), MAX_DEPTH)).toBe(Infinity);
  });

  it('agrees with valueDepth on the same value', () => {
    const value = { a: [1, { b: [[], { c: 'x' }] }], d: null };
    expect(jsonDepth(JSON.stringify(value))).toBe(valueDepth(value));
    expect(valueDepth(value)).toBe(5);
  });
});

describe('valueDepth and checkDepth', () => {
  it('walk without recursion: 10,000 levels are refused, not a RangeError', () => {
    const deep = nested(10_000);
    expect(valueDepth(deep, MAX_VALUE_DEPTH)).toBe(Infinity);
    expect(() => checkDepth(deep)).toThrow(TabgridError);
    expect(() => checkDepth(deep)).toThrow(/deeper than 100 levels/);
    try {
      checkDepth(deep, 10, { what: 'task input', code: ErrorCode.INVALID_REQUEST });
    } catch (err) {
      expect(err).toMatchObject({ code: ErrorCode.INVALID_REQUEST, status: 400 });
      expect((err as Error).message).toMatch(/^Invalid task input: nested deeper than 10/);
    }
    expect.assertions(5);
  });

  it('accept exactly the limit and refuse one more', () => {
    expect(() => checkDepth(nested(MAX_VALUE_DEPTH - 1, {}))).not.toThrow();
    expect(() => checkDepth(nested(MAX_VALUE_DEPTH, {}))).toThrow(/deeper than 100/);
    expect(() => checkJsonDepth(nestedText(MAX_DEPTH))).not.toThrow();
    expect(() => checkJsonDepth(nestedText(MAX_DEPTH + 1))).toThrow(/deeper than 128/);
  });

  it('count a typed array or Buffer as one level and never look into its bytes', () => {
    expect(valueDepth(new Float64Array(4))).toBe(1);
    expect(valueDepth({ data: Buffer.alloc(1_000_000) })).toBe(2);
    expect(valueDepth([{ x: new Uint8Array(3).buffer }])).toBe(3);
  });
});

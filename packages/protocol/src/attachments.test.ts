import { describe, expect, it } from 'vitest';
import {
  MAX_SOCKET_ATTACHMENTS,
  countAttachments,
  countTextTags,
  cutByAttachments,
  tooManyAttachments,
} from './attachments.js';
import { toTextForm } from './bytes.js';
import { ErrorCode } from './errors.js';

describe('countAttachments', () => {
  it('counts every typed array and ArrayBuffer at any depth, and nothing else', () => {
    const value = {
      a: new Float32Array(4),
      b: [new Uint8Array(2), { c: new ArrayBuffer(8), d: 'text', e: [1, 2] }],
      f: new BigInt64Array(1),
    };
    expect(countAttachments(value)).toBe(4);
    expect(countAttachments({ plain: [1, { x: 'y' }] })).toBe(0);
    expect(countAttachments(7)).toBe(0);
  });

  it('stops once past the bound it is given', () => {
    const many = Array.from({ length: 50 }, () => new Uint8Array(1));
    expect(countAttachments(many, 10)).toBe(11);
    expect(countAttachments(many)).toBe(50);
  });
});

describe('countTextTags', () => {
  it('counts the text form of the same value alike', () => {
    const value = { a: new Float32Array(4), b: [new Uint8Array(2), new ArrayBuffer(8)] };
    expect(countTextTags(toTextForm(value))).toBe(3);
    expect(countTextTags(toTextForm({ n: [1, 2] }))).toBe(0);
    expect(countTextTags(toTextForm(Array.from({ length: 30 }, () => new Int8Array(1))), 5)).toBe(
      6,
    );
  });
});

describe('cutByAttachments', () => {
  const counts = (runs: number[][]) => runs.map((run) => run.reduce((a, b) => a + b, 0));

  it('keeps one run when everything fits, and never makes an empty one', () => {
    expect(cutByAttachments([1, 2, 3], (n) => n, 6)).toEqual([[1, 2, 3]]);
    expect(cutByAttachments([], (n: number) => n, 6)).toEqual([]);
  });

  it('cuts in order so that no run passes the bound; an item over it goes alone', () => {
    const items = [4, 4, 4, 0, 9, 3, 3];
    const runs = cutByAttachments(items, (n) => n, 8);
    expect(runs.flat()).toEqual(items);
    expect(runs).toEqual([[4, 4], [4, 0], [9], [3, 3]]);
    expect(counts(runs).filter((n) => n > 8)).toEqual([9]);
  });
});

describe('tooManyAttachments', () => {
  it('is TG_ERR_PAYLOAD_TOO_LARGE naming the value, the limit and what to do', () => {
    const error = tooManyAttachments('tasks[3]');
    expect(error.code).toBe(ErrorCode.PAYLOAD_TOO_LARGE);
    expect(error.message).toMatch(/^tasks\[3\] holds more than 10,000 typed arrays/);
    expect(error.message).toContain('MAX_SOCKET_ATTACHMENTS');
    expect(error.message).toMatch(/fewer, larger arrays/);
    expect(MAX_SOCKET_ATTACHMENTS).toBe(10_000);
  });
});

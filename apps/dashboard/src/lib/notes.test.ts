import { describe, expect, it } from 'vitest';
import { MAX_NOTES, mergeNotes, visibleNotes } from './notes.js';

describe('visibleNotes', () => {
  const notes = [
    { at: 5_000, text: 'c' },
    { at: 1_000, text: 'a' },
    { at: 3_000, text: 'b' },
    { at: 9_000, text: 'late' },
  ];

  it('keeps the notes inside the window (seconds), oldest first', () => {
    expect(visibleNotes(notes, 1, 5).map((n) => n.text)).toEqual(['a', 'b', 'c']);
    expect(visibleNotes(notes, 2, 4).map((n) => n.text)).toEqual(['b']);
    expect(visibleNotes(notes, 10, 20)).toEqual([]);
  });

  it('keeps the newest when there are more than the limit', () => {
    expect(visibleNotes(notes, 0, 10, 2).map((n) => n.text)).toEqual(['c', 'late']);
  });
});

describe('mergeNotes', () => {
  it('adds new notes once, oldest first', () => {
    const a = { at: 1, text: 'a' };
    const b = { at: 2, text: 'b' };
    expect(mergeNotes([b], [a, b, { at: 2, text: 'b2' }])).toEqual([a, b, { at: 2, text: 'b2' }]);
  });

  it(`keeps the newest ${MAX_NOTES}`, () => {
    const many = Array.from({ length: MAX_NOTES + 5 }, (_, i) => ({ at: i, text: 'n' }));
    const kept = mergeNotes([], many);
    expect(kept).toHaveLength(MAX_NOTES);
    expect(kept[0]!.at).toBe(5);
  });
});

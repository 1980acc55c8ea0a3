import { describe, expect, it } from 'vitest';
import { MAX_THREADS, readPageOptions } from './page-options';

describe('readPageOptions', () => {
  it('defaults to one thread per logical core and autostart', () => {
    expect(readPageOptions('', 8)).toEqual({ threads: 8, autostart: true });
    expect(readPageOptions('', undefined)).toEqual({ threads: 1, autostart: true });
  });
  it('reads ?threads and ?autostart=0', () => {
    expect(readPageOptions('?threads=3&autostart=0', 8)).toEqual({ threads: 3, autostart: false });
    expect(readPageOptions('?autostart=1', 2).autostart).toBe(true);
  });
  it('ignores nonsense and clamps to what the protocol allows', () => {
    expect(readPageOptions('?threads=abc', 4).threads).toBe(4);
    expect(readPageOptions('?threads=0', 4).threads).toBe(4);
    expect(readPageOptions('?threads=2.7', 4).threads).toBe(2);
    expect(readPageOptions('?threads=99999', 4).threads).toBe(MAX_THREADS);
  });
});

import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { DEFAULT_URL, Tabgrid, programSource } from './client.js';

describe('programSource', () => {
  it('passes source text through', () => {
    expect(programSource('function Run(d) { return d }')).toBe('function Run(d) { return d }');
  });

  it('wraps arrow functions and function expressions as `var Run = (…);`', () => {
    expect(programSource((d: number) => d * 2)).toBe('var Run = ((d) => d * 2);');
    expect(programSource(async (d: number) => await Promise.resolve(d))).toBe(
      'var Run = (async (d) => await Promise.resolve(d));',
    );
    expect(
      programSource(function double(d: number) {
        return d * 2;
      }),
    ).toMatch(/^var Run = \(function double\(d\) \{\s*return d \* 2;\s*\}\);$/);
  });

  it('turns method shorthand into a function expression', () => {
    const spec = {
      Run(this: void, d: number) {
        return d + 1;
      },
    };
    const source = programSource(spec.Run);
    expect(source).toMatch(/^var Run = \(function Run\(d\) \{/);
    // The result must define Run when evaluated.
    expect(runInNewContext(`${source}; Run(1);`)).toBe(2);
  });

  it('refuses native and bound functions, which have no source', () => {
    expect(() => programSource(Math.max)).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_PROGRAM }),
    );
    expect(() => programSource(((d: number) => d).bind(null))).toThrow(/no source/);
  });
});

describe('Tabgrid options', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads the url from TABGRID_URL, else the default, without connecting', async () => {
    vi.stubEnv('TABGRID_URL', '');
    expect(new Tabgrid().url).toBe(DEFAULT_URL);
    vi.stubEnv('TABGRID_URL', 'http://10.0.0.2:9000');
    const tg = new Tabgrid();
    expect(tg.url).toBe('http://10.0.0.2:9000');
    expect(tg.job('abc').id).toBe('abc');
    await tg.close();
    expect(new Tabgrid({ url: 'https://grid.example' }).url).toBe('https://grid.example');
  });

  it('refuses a url that is not http(s)', () => {
    expect(() => new Tabgrid({ url: 'localhost:8080' })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_REQUEST }),
    );
    expect(() => new Tabgrid({ url: 'not a url' })).toThrow(/Invalid Tabgrid url/);
  });

  it('fails requests on a closed client with DISCONNECTED', async () => {
    const tg = new Tabgrid({ url: 'http://127.0.0.1:9' });
    await tg.close();
    await expect(tg.jobs()).rejects.toMatchObject({ code: ErrorCode.DISCONNECTED });
  });
});

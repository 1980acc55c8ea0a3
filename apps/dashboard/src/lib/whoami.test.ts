import { describe, expect, it } from 'vitest';
import { whoami } from './whoami.js';

const answer = (status: number, body?: unknown) => () =>
  Promise.resolve(new Response(body === undefined ? null : JSON.stringify(body), { status }));

describe('whoami', () => {
  it('returns the validated identity', async () => {
    const result = await whoami('http://x', 't', answer(200, { name: 'v', role: 'viewer' }));
    expect(result).toEqual({ kind: 'ok', identity: { name: 'v', role: 'viewer' } });
  });

  it('sends the token as a bearer token', async () => {
    let seen: string | null = null;
    await whoami('http://x', 'secret', (_url, init) => {
      seen = new Headers(init?.headers).get('authorization');
      return Promise.resolve(new Response('{"name":"a","role":"admin"}'));
    });
    expect(seen).toBe('Bearer secret');
  });

  it('says when the token is refused or the server is away', async () => {
    expect((await whoami('http://x', 't', answer(401, {}))).kind).toBe('refused');
    const away = await whoami('http://x', 't', () => Promise.reject(new Error('ECONNREFUSED')));
    expect(away).toMatchObject({ kind: 'unreachable' });
    expect(away.kind === 'unreachable' && away.message).toContain('ECONNREFUSED');
  });

  it("quotes the server's error body when it sent one, and only a decodable one", async () => {
    const limited = await whoami(
      'http://x',
      't',
      answer(429, { error: { code: 'TG_ERR_RATE_LIMITED', message: 'Wait 3 s.' } }),
    );
    expect(limited).toMatchObject({
      kind: 'unreachable',
      message: expect.stringContaining('(Wait 3 s.)'),
    });
    const odd = await whoami('http://x', 't', answer(502, { error: 'proxy' }));
    expect(odd.kind === 'unreachable' && odd.message).toMatch(
      /^The server answered HTTP 502; retrying/,
    );
  });

  it('treats a missing endpoint or an invalid answer as an unknown role', async () => {
    expect((await whoami('http://x', 't', answer(404, {}))).kind).toBe('unknown');
    expect((await whoami('http://x', 't', answer(200, { role: 'root' }))).kind).toBe('unknown');
  });
});

/**
 * Attacks on the REST API (issue #11 items 9 and 10): guessed tokens in bulk, over-deep bodies
 * (must be a 400, never a 500), request bodies that trickle in forever, and big uploads at once.
 */
import { connect } from 'node:net';
import { lanes, sleep, type AttackContext, type AttackFamily } from './attack.js';
import { deepJson, randomBytes } from './malformed-frames.js';

async function request(
  ctx: AttackContext,
  family: string,
  path: string,
  init: { method?: string; token?: string; body?: string },
): Promise<number> {
  ctx.tally.count(family, 'rest');
  try {
    const response = await fetch(`${ctx.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.token !== undefined ? { authorization: `Bearer ${init.token}` } : {}),
        'content-type': 'application/json',
      },
      ...(init.body !== undefined ? { body: init.body } : {}),
      signal: AbortSignal.timeout(60_000),
    });
    await response.arrayBuffer();
    ctx.tally.note(family, `HTTP ${response.status}`);
    if (response.status >= 500) ctx.tally.internal(family);
    return response.status;
  } catch (err) {
    ctx.tally.note(family, `request failed: ${(err as Error).name}`);
    return 0;
  }
}

/** A POST whose body never finishes: one byte a second. Resolves with who ended it. */
function slowBody(ctx: AttackContext, holdMs: number): Promise<'server' | 'us'> {
  const { port } = new URL(ctx.url);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let ours = false;
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(ours ? 'us' : 'server'));
    socket.on('connect', () => {
      socket.write('POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n');
      socket.write('Content-Length: 100000\r\n\r\n{');
      const drip = setInterval(() => socket.write(' '), 1_000);
      setTimeout(() => {
        clearInterval(drip);
        ours = true;
        socket.destroy();
      }, holdMs);
      socket.on('close', () => clearInterval(drip));
    });
  });
}

const rest: AttackFamily = {
  name: 'rest',
  target: 'rest',
  about:
    'guessed tokens in bulk, over-deep bodies, bodies that trickle in, two 60 MB uploads at once (#11 items 9, 10)',
  async run(ctx, rng) {
    const family = 'rest';
    let tried = 0;
    await lanes(20, async () => {
      while (tried < 2_000) {
        tried++;
        const token = `tg_${Buffer.from(randomBytes(rng, 24)).toString('base64url')}`;
        if ((await request(ctx, family, '/api/jobs', { token })) === 200) {
          ctx.tally.note(family, 'ACCEPTED A BAD TOKEN');
        }
      }
    });
    // Over-deep input is malformed input: a 400, never a 500.
    for (const depth of [3_500, 6_000, 10_000]) {
      for (const kind of ['array', 'object'] as const) {
        const nested = deepJson(depth, kind);
        await request(ctx, family, '/api/jobs', {
          method: 'POST',
          token: ctx.clientToken,
          body: `{"program":"function Run(x) { return x }","args":${nested}}`,
        });
        await request(ctx, family, `/api/jobs/${ctx.jobs.bait}/tasks`, {
          method: 'POST',
          token: ctx.clientToken,
          body: `[${nested}]`,
        });
      }
    }
    // Bodies that never end, from unauthenticated clients: the server should cut them off.
    const slow = Promise.all(Array.from({ length: 50 }, () => slowBody(ctx, 10_000)));
    // Two 60 MB uploads at once, to a job of the client's own that is cancelled afterwards.
    const created = await fetch(`${ctx.url}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.clientToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        program: 'function Run(x) { return x.length }',
        name: 'upload-target',
        priority: -10,
      }),
    });
    const { id } = (await created.json()) as { id?: string };
    if (id) {
      const chunk = JSON.stringify('u'.repeat(1 << 20));
      const body = `[${Array.from({ length: 60 }, () => chunk).join(',')}]`;
      await Promise.all(
        [0, 1].map(() =>
          request(ctx, family, `/api/jobs/${id}/tasks`, {
            method: 'POST',
            token: ctx.clientToken,
            body,
          }),
        ),
      );
      await request(ctx, family, `/api/jobs/${id}/cancel`, {
        method: 'POST',
        token: ctx.clientToken,
      });
    }
    const ends = await slow;
    ctx.tally.count(family, 'rest', ends.length);
    const cut = ends.filter((e) => e === 'server').length;
    ctx.tally.note(family, `slow bodies cut by the server: ${cut} of ${ends.length}`);
    await sleep(100);
  },
};

export const REST_FAMILIES: readonly AttackFamily[] = [rest];

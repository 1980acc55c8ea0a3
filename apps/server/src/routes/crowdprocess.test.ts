/**
 * The CrowdProcess-compatible REST surface and API keys, over real HTTP on a listening server.
 */
import { request as httpRequest } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { NodeWorker } from '../testing/node-worker.js';
import { serverPerFile } from '../testing/vitest.js';

const env = serverPerFile();
let alice: string;
let bob: string;
let viewer: string;

async function call(
  method: string,
  path: string,
  secret: string | undefined,
  body?: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${env.url}${path}`, {
    method,
    headers: { ...(secret ? { authorization: `Token ${secret}` } : {}), ...headers },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: () =>
      JSON.parse(text) as Record<string, unknown> & { error?: { code: string; message: string } },
  };
}

async function makeKey(name: string, role: string, owner?: string): Promise<string> {
  const res = await call('POST', '/api/keys', env.token, JSON.stringify({ name, role, owner }), {
    'content-type': 'application/json',
  });
  expect(res.status).toBe(201);
  return res.json().secret as string;
}

beforeAll(async () => {
  alice = await makeKey('alice', 'client');
  bob = await makeKey('bob', 'client');
  viewer = await makeKey('alice-viewer', 'viewer', 'alice');
});

describe('API keys', () => {
  it('accepts Token, Bearer and Basic NAME:SECRET; anything else is 401 with a JSON error', async () => {
    const basic = Buffer.from(`alice:${alice}`).toString('base64');
    for (const authorization of [`Token ${alice}`, `Bearer ${alice}`, `Basic ${basic}`]) {
      expect((await fetch(`${env.url}/api/jobs/`, { headers: { authorization } })).status).toBe(
        200,
      );
    }
    const wrongName = Buffer.from(`bob:${alice}`).toString('base64');
    for (const authorization of [
      '',
      `Token nope`,
      `Basic ${wrongName}`,
      alice,
      `Digest ${alice}`,
    ]) {
      const res = await fetch(`${env.url}/api/jobs/`, {
        headers: authorization ? { authorization } : {},
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 'TG_ERR_UNAUTHORIZED' } });
    }
  });

  it('cannot be bypassed with doubled or odd slashes', async () => {
    for (const path of ['//api/jobs', '//api//jobs/', '/api//keys', '//api/whoami']) {
      const res = await fetch(`${env.url}${path}`);
      expect(res.status, path).toBe(401);
    }
  });

  it('lets only admins manage keys, shows the secret once and stores it hashed', async () => {
    expect((await call('GET', '/api/keys', alice)).status).toBe(403);
    expect((await call('POST', '/api/keys', viewer, '{"name":"x","role":"admin"}')).status).toBe(
      403,
    );
    const list = await call('GET', '/api/keys', env.token);
    expect(list.text).not.toContain(alice);
    const created = await call('POST', '/api/keys', env.token, '{"name":"temp","role":"client"}');
    const { id, secret } = created.json() as { id: string; secret: string };
    expect((await call('GET', '/api/jobs', secret)).status).toBe(200);
    expect((await call('DELETE', `/api/keys/${id}`, env.token)).status).toBe(204);
    expect((await call('GET', '/api/jobs', secret)).status).toBe(401);
    expect((await call('DELETE', `/api/keys/${id}`, env.token)).status).toBe(404);
    expect(
      (await call('POST', '/api/keys', env.token, '{"name":"alice","role":"client"}')).status,
    ).toBe(400);
  });

  it('keeps two clients apart: someone else’s job is 404, and lists only show your own', async () => {
    const mine = (
      await call('POST', '/api/jobs/', alice, '{"program":"function Run(d){return d}"}')
    ).json().id as string;
    expect((await call('GET', `/api/jobs/${mine}`, bob)).status).toBe(404);
    expect((await call('DELETE', `/api/jobs/${mine}`, bob)).status).toBe(404);
    expect((await call('POST', `/api/jobs/${mine}/tasks`, bob, '1\n')).status).toBe(404);
    expect((await call('GET', `/api/jobs/${mine}/results`, bob)).status).toBe(404);
    const bobs = (await call('GET', '/api/jobs/', bob)).json() as unknown as { id: string }[];
    expect(bobs.map((j) => j.id)).not.toContain(mine);
    const alices = (await call('GET', '/api/jobs/', alice)).json() as unknown as { id: string }[];
    expect(alices.map((j) => j.id)).toContain(mine);
    // A viewer scoped to alice reads her jobs and changes nothing.
    expect((await call('GET', `/api/jobs/${mine}`, viewer)).status).toBe(200);
    expect((await call('GET', '/api/whoami', viewer)).json()).toEqual({
      name: 'alice-viewer',
      role: 'viewer',
    });

    const refused = await call('DELETE', `/api/jobs/${mine}`, viewer);
    expect(refused.status).toBe(403);
    expect(refused.json().error?.code).toBe('TG_ERR_FORBIDDEN');
    expect(
      (await call('POST', '/api/jobs/', viewer, '{"program":"function Run(d){return d}"}')).status,
    ).toBe(403);
  });
});

describe('CrowdProcess surface', () => {
  it('creates a job from a JSON body sent with no Content-Type, maps bid to priority, lists CrowdProcess fields', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${env.url}/api/jobs/`,
        { method: 'POST', headers: { authorization: `Token ${alice}` } },
        (r) => {
          let body = '';
          r.on('data', (c: Buffer) => (body += c.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ program: 'function Run(d){ return d }', bid: 3, group: 'physics' }));
    });
    expect(res.status).toBe(201);
    const { id } = JSON.parse(res.body) as { id: string };
    const job = (await call('GET', `/api/jobs/${id}`, alice)).json();
    expect(job).toMatchObject({
      id,
      status: 'open',
      bid: 3,
      priority: 3,
      group: 'physics',
      total: 0,
      finished: 0,
      failed: 0,
      lastResult: null,
      browserHours: 0,
    });
    expect(new Date(job.created as string).toISOString()).toBe(job.created);
    expect(typeof job.modified).toBe('string');
  });

  it('uploads NDJSON and JSON arrays, streams results and errors live, then ends when the job is done', async () => {
    const id = (
      await call(
        'POST',
        '/api/jobs/',
        alice,
        '{"program":"function Run(d){ if (d < 0) throw new Error(\\"negative \\" + d); return d * 2 }"}',
      )
    ).json().id as string;
    expect((await call('POST', `/api/jobs/${id}/tasks`, alice, '1\n-2\n3\n')).json()).toEqual({
      count: 3,
    });
    const arr = await call('POST', `/api/jobs/${id}/tasks`, alice, '[4, -5]', {
      'content-type': 'application/json',
    });
    expect(arr.status).toBe(201);
    expect(arr.json()).toEqual({ count: 2 });
    const results = fetch(`${env.url}/api/jobs/${id}/results?stream`, {
      headers: { authorization: `Token ${alice}` },
    }).then((r) => r.text());
    const errors = fetch(`${env.url}/api/jobs/${id}/errors?stream`, {
      headers: { authorization: `Token ${alice}` },
    }).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 50));
    await call('POST', `/api/jobs/${id}/close`, alice);
    const worker = new NodeWorker(env.wsUrl);
    await worker.opened;
    worker.hello();
    const resultLines = (await results)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as number);
    expect(resultLines.sort((a, b) => a - b)).toEqual([2, 6, 8]);
    const errorLines = (await errors)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(errorLines.map((e) => e.index).sort()).toEqual([1, 4]);
    expect(errorLines[0]).toEqual({
      message: expect.stringMatching(/^negative/),
      name: 'Error',
      stack: expect.any(String),
      type: 'program',
      index: expect.any(Number),
    });
    worker.close();
    // Non-stream reads answer what is settled so far and end; ?meta and ?from extend them.
    expect(
      (await call('GET', `/api/jobs/${id}/results`, alice)).text.trim().split('\n'),
    ).toHaveLength(3);
    const meta = (await call('GET', `/api/jobs/${id}/results?meta`, alice)).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: number; value: number });
    expect(meta.find((m) => m.index === 0)).toEqual({ index: 0, value: 2 });
    expect(
      (await call('GET', `/api/jobs/${id}/results?from=4`, alice)).text.trim().split('\n').length,
    ).toBeLessThan(3);
    const job = (await call('GET', `/api/jobs/${id}`, alice)).json();
    expect(job).toMatchObject({ status: 'done', total: 5, finished: 3, failed: 2 });
    expect(job.lastResult).toEqual(expect.any(String));
  });

  it('stops an upload at a malformed line in the middle, naming it; earlier tasks stay', async () => {
    const id = (
      await call('POST', '/api/jobs/', alice, '{"program":"function Run(d){return d}"}')
    ).json().id as string;
    const lines = Array.from({ length: 5000 }, (_, i) => String(i));
    lines[3210] = '{"broken": ';
    const res = await call('POST', `/api/jobs/${id}/tasks`, alice, lines.join('\n'));
    expect(res.status).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'TG_ERR_INVALID_TASK',
      message: expect.stringMatching(/Line 3211 .* 3210 task\(s\) before it were accepted/),
    });
    expect((await call('GET', `/api/jobs/${id}`, alice)).json().total).toBe(3210);
  });

  it('refuses a runaway line, keeping the tasks before it', async () => {
    const id = (
      await call('POST', '/api/jobs/', alice, '{"program":"function Run(d){return d}"}')
    ).json().id as string;
    const res = await call(
      'POST',
      `/api/jobs/${id}/tasks`,
      alice,
      `1\n2\n"${'x'.repeat(17 * 1024 * 1024)}"\n4\n`,
    );
    expect(res.status).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'TG_ERR_INVALID_TASK',
      message: expect.stringMatching(
        /Line 3 is longer than 16 MB; the 2 task\(s\) before it were accepted/,
      ),
    });
    expect((await call('GET', `/api/jobs/${id}`, alice)).json().total).toBe(2);
  }, 30_000); // a 17 MB body: ~2.5 s alone, more beside other test files on two cores

  it('deletes one job (204) and all the caller’s jobs (204), leaving other clients’ jobs alone', async () => {
    const bobs = (
      await call('POST', '/api/jobs/', bob, '{"program":"function Run(d){return d}"}')
    ).json().id as string;
    const a = (
      await call('POST', '/api/jobs/', alice, '{"program":"function Run(d){return d}"}')
    ).json().id as string;
    expect((await call('DELETE', `/api/jobs/${a}`, alice)).status).toBe(204);
    expect((await call('GET', `/api/jobs/${a}`, alice)).status).toBe(404);
    expect((await call('DELETE', '/api/jobs/', alice)).status).toBe(204);
    expect((await call('GET', '/api/jobs/', alice)).json()).toEqual([]);
    expect((await call('GET', `/api/jobs/${bobs}`, bob)).status).toBe(200);
  });

  it('streams a 1,000,000-line upload in constant memory', async () => {
    const id = (
      await call('POST', '/api/jobs/', alice, '{"program":"function Run(d){return d}"}')
    ).json().id as string;
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${env.url}/api/jobs/${id}/tasks`,
        {
          method: 'POST',
          headers: { authorization: `Token ${alice}`, 'content-type': 'application/x-ndjson' },
        },
        (r) => {
          let body = '';
          r.on('data', (c: Buffer) => (body += c.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      let i = 0;
      const pump = () => {
        while (i < 1_000_000) {
          let chunk = '';
          for (let j = 0; j < 1000; j++, i++) chunk += `{"n":${i},"pad":"${'x'.repeat(40)}"}\n`;
          if (!req.write(chunk)) return req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    clearInterval(sampler);
    expect(status.status).toBe(201);
    expect(JSON.parse(status.body)).toEqual({ count: 1_000_000 });
    expect((await call('GET', `/api/jobs/${id}`, alice)).json().total).toBe(1_000_000);
    // ~60 MB of NDJSON went through (holding it as strings would take several times that); growth
    // stays far below. Client and server share this process, so this bounds both.
    const growthMb = (peak - before) / 1024 / 1024;
    console.log(`1,000,000-line upload: peak RSS growth ${growthMb.toFixed(1)} MB`);
    expect(growthMb).toBeLessThan(100);
  }, 120_000);
});

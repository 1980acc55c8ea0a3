/**
 * The SDK socket against hostile or careless key holders: tenant isolation in the dashboard
 * feed, capped subscriptions, and payloads that amplify or nest too deep.
 */
import { io as ioClient, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeWorker } from '../testing/node-worker.js';
import { until } from '../testing/until.js';
import { serverPerFile } from '../testing/vitest.js';
import { MAX_SUBSCRIPTIONS_PER_SOCKET } from './sdk-socket.js';

const env = serverPerFile();
const keys: Record<string, string> = {};
const sockets: Socket[] = [];

type Answer = { ok: boolean; data?: unknown; error?: { code: string; message: string } };

function connect(token: string): Promise<Socket> {
  const socket = ioClient(env.url, { auth: { token }, transports: ['websocket'] });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.on('connect', () => resolve(socket));
    socket.on('connect_error', reject);
  });
}

function ask(socket: Socket, event: string, payload: unknown): Promise<Answer> {
  return new Promise((resolve) => socket.emit(event, payload, (answer: Answer) => resolve(answer)));
}

beforeAll(async () => {
  for (const [name, role, owner] of [
    ['alice', 'client'],
    ['bob', 'client'],
    ['alice-viewer', 'viewer', 'alice'],
  ] as const) {
    const res = await fetch(`${env.url}/api/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.token}` },
      body: JSON.stringify({ name, role, owner }),
    });
    keys[name] = ((await res.json()) as { secret: string }).secret;
  }
});
afterAll(() => {
  for (const socket of sockets) socket.close();
});

async function createJob(socket: Socket, extra: Record<string, unknown> = {}): Promise<string> {
  const answer = await ask(socket, 'job:create', {
    program: 'function Run(d){return d}',
    ...extra,
  });
  expect(answer.ok, JSON.stringify(answer)).toBe(true);
  return (answer.data as { id: string }).id;
}

function nextStats(socket: Socket): Promise<string> {
  return new Promise((resolve) =>
    socket.once('dashboard:stats', (stats: unknown) => resolve(JSON.stringify(stats))),
  );
}

describe('the dashboard feed', () => {
  it("gives a client or viewer key no other tenant's job id, and workers only as counts", async () => {
    const alice = await connect(keys.alice!);
    const bob = await connect(keys.bob!);
    const aliceJob = await createJob(alice);
    const bobJob = await createJob(bob);
    // A worker that keeps bob's task in flight: it is now running bob's job.
    const worker = new NodeWorker(env.wsUrl, {
      beforeTask: () => false,
    });
    await worker.opened;
    worker.hello();
    expect((await ask(bob, 'job:submit', { jobId: bobJob, batchId: 'b1', tasks: [1] })).ok).toBe(
      true,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect([...env.server.scheduler.workers.all()][0]?.currentJob).toBe(bobJob);

    const admin = await connect(env.token);
    const viewer = await connect(keys['alice-viewer']!);
    for (const socket of [alice, viewer, admin]) {
      expect((await ask(socket, 'dashboard:subscribe', {})).ok).toBe(true);
    }
    const [asAlice, asViewer, asAdmin] = await Promise.all([alice, viewer, admin].map(nextStats));
    // The control: the admin's feed does name bob's job (and so could leak it).
    expect(asAdmin).toContain(bobJob);
    expect(asAdmin).toContain('node-worker');
    for (const feed of [asAlice!, asViewer!]) {
      expect(feed).toContain(aliceJob);
      expect(feed).not.toContain(bobJob);
      expect(feed).not.toContain('node-worker'); // no user agents
      const stats = JSON.parse(feed) as { workers: unknown[]; sample: { workers: number } };
      expect(stats.workers).toEqual([]);
      expect(stats.sample.workers).toBe(1);
    }
    worker.close();
  });
});

describe('subscriptions', () => {
  it(`are capped at ${MAX_SUBSCRIPTIONS_PER_SOCKET} per socket; one more is refused with a code, unsubscribing frees one`, async () => {
    const alice = await connect(keys.alice!);
    const jobId = await createJob(alice);
    for (let i = 0; i < MAX_SUBSCRIPTIONS_PER_SOCKET; i++) {
      const answer = await ask(alice, 'job:subscribe', {
        jobId,
        subscriptionId: `s${i}`,
        kind: 'results',
        from: 0,
      });
      expect(answer.ok).toBe(true);
    }
    const refused = await ask(alice, 'job:subscribe', {
      jobId,
      subscriptionId: 'one-more',
      kind: 'results',
      from: 0,
    });
    expect(refused).toMatchObject({ ok: false, error: { code: 'TG_ERR_TOO_MANY_SUBSCRIPTIONS' } });
    // Subscribing again under an id it holds is not one more.
    expect(
      (await ask(alice, 'job:subscribe', { jobId, subscriptionId: 's0', kind: 'errors', from: 0 }))
        .ok,
    ).toBe(true);
    expect((await ask(alice, 'job:unsubscribe', { subscriptionId: 's1' })).ok).toBe(true);
    expect(
      (
        await ask(alice, 'job:subscribe', {
          jobId,
          subscriptionId: 'one-more',
          kind: 'results',
          from: 0,
        })
      ).ok,
    ).toBe(true);
  });
});

describe('feeds (job:follow) and tells', () => {
  it('count with outcome streams toward the cap', async () => {
    const alice = await connect(keys.alice!);
    const jobId = await createJob(alice);
    for (let i = 0; i < MAX_SUBSCRIPTIONS_PER_SOCKET - 1; i++) {
      const answer = await ask(alice, 'job:subscribe', {
        jobId,
        subscriptionId: `s${i}`,
        kind: 'results',
        from: 0,
      });
      expect(answer.ok).toBe(true);
    }
    const follow = (subscriptionId: string) =>
      ask(alice, 'job:follow', { jobId, subscriptionId, feed: 'logs', from: 0 });
    expect(await follow('f0')).toMatchObject({ ok: true, data: { subscribed: true } });
    expect(await follow('f1')).toMatchObject({
      ok: false,
      error: { code: 'TG_ERR_TOO_MANY_SUBSCRIPTIONS' },
    });
    // Unsubscribing a feed frees its place, as for an outcome stream.
    expect((await ask(alice, 'job:unsubscribe', { subscriptionId: 'f0' })).ok).toBe(true);
    expect((await follow('f1')).ok).toBe(true);
  });

  it("are the owner's: a viewer follows but does not tell, another client sees no job", async () => {
    const alice = await connect(keys.alice!);
    const jobId = await createJob(alice);
    const viewer = await connect(keys['alice-viewer']!);
    const bob = await connect(keys.bob!);
    const follow = { jobId, subscriptionId: 'v', feed: 'series', label: 'loss', from: 0 };
    expect((await ask(viewer, 'job:follow', follow)).ok).toBe(true);
    expect(await ask(viewer, 'job:tell', { jobId, messageId: 'm1', data: 1 })).toMatchObject({
      ok: false,
      error: { code: 'TG_ERR_FORBIDDEN' },
    });
    expect(await ask(bob, 'job:follow', follow)).toMatchObject({
      ok: false,
      error: { code: 'TG_ERR_JOB_NOT_FOUND' },
    });
    expect(await ask(bob, 'job:tell', { jobId, messageId: 'm1', data: 1 })).toMatchObject({
      ok: false,
      error: { code: 'TG_ERR_JOB_NOT_FOUND' },
    });
    // Alice's message, sent twice under one id, is stored once.
    const tell = { jobId, messageId: 'm1', data: { go: 1 } };
    expect(await ask(alice, 'job:tell', tell)).toEqual({ ok: true, data: { seq: 1 } });
    expect(await ask(alice, 'job:tell', tell)).toEqual({ ok: true, data: { seq: 1 } });
    expect(await ask(alice, 'job:tell', { ...tell, messageId: 'm2' })).toEqual({
      ok: true,
      data: { seq: 2 },
    });
    // A malformed follow is refused by the protocol's decoder before any work.
    expect(
      await ask(alice, 'job:follow', { ...follow, subscriptionId: 'x', label: 'bad$label' }),
    ).toMatchObject({ ok: false, error: { code: 'TG_ERR_PROTOCOL' } });
  });
});

/**
 * A raw socket.io connection (engine.io over a WebSocket), to send what socket.io-client never
 * would: one binary attachment referred to by many placeholders.
 */
async function rawSocket(token: string): Promise<{ ws: WebSocket; acks: Map<number, unknown> }> {
  const ws = new WebSocket(`${env.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const acks = new Map<number, unknown>();
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = (data as Buffer).toString();
      if (text.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`);
      else if (text.startsWith('40')) resolve();
      else if (text === '2') ws.send('3');
      else if (text.startsWith('43')) {
        const match = /^43(\d+)(.*)$/.exec(text)!;
        acks.set(Number(match[1]), (JSON.parse(match[2]!) as unknown[])[0]);
      }
    });
    ws.on('error', reject);
  });
  return { ws, acks };
}

/** The server's answer to request `id` on a raw socket. */
function ack(acks: Map<number, unknown>, id: number): Promise<unknown> {
  return until(() => acks.get(id), { timeoutMs: 10_000, intervalMs: 20, what: `ack ${id}` });
}

describe('socket.io payloads', () => {
  it('refuses args that refer to one 1 MB attachment 400 times (400 MB once serialised)', async () => {
    const { ws, acks } = await rawSocket(keys.alice!);
    const placeholders = Array.from({ length: 400 }, () => ({ _placeholder: true, num: 0 }));
    const args = { $: placeholders.map((p) => ({ '$tabgrid.bytes': 'Uint8Array', data: p })) };
    const before = process.memoryUsage().rss;
    ws.send(
      `451-1${JSON.stringify(['job:create', { program: 'function Run(d){return d}', args }])}`,
    );
    ws.send(Buffer.alloc(1024 * 1024, 7));
    const answer = await ack(acks, 1);
    expect(answer).toMatchObject({ ok: false, error: { code: 'TG_ERR_PAYLOAD_TOO_LARGE' } });
    expect((process.memoryUsage().rss - before) / 1024 / 1024).toBeLessThan(200);
    // The same attachment referred to once is a fine job.
    ws.send(
      `451-2${JSON.stringify(['job:create', { program: 'function Run(d){return d}', args: { b: { '$tabgrid.bytes': 'Uint8Array', data: { _placeholder: true, num: 0 } } } }])}`,
    );
    ws.send(Buffer.alloc(1024 * 1024, 7));
    expect(await ack(acks, 2)).toMatchObject({ ok: true });
    ws.close();
  });

  it('answers 10,000 levels of nesting in args or tasks with a 400-class error, not a crash', async () => {
    // Raw: socket.io-client itself overflows its stack walking such a value.
    const { ws, acks } = await rawSocket(keys.alice!);
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    ws.send(`421["job:create",{"program":"function Run(d){return d}","args":${deep}}]`);
    expect(await ack(acks, 1)).toMatchObject({
      ok: false,
      error: { code: 'TG_ERR_INVALID_REQUEST', message: expect.stringMatching(/nested deeper/) },
    });
    ws.send(`422["job:create",{"program":"function Run(d){return d}"}]`);
    const { id } = ((await ack(acks, 2)) as { data: { id: string } }).data;
    ws.send(`423["job:submit",{"jobId":"${id}","batchId":"deep","tasks":[${deep}]}]`);
    expect(await ack(acks, 3)).toMatchObject({
      ok: false,
      error: { code: 'TG_ERR_INVALID_REQUEST' },
    });
    expect((await fetch(`${env.url}/healthz`)).status).toBe(200);
    ws.close();
  });

  it('accepts a batch of 1,000 typed arrays (socket.io alone allows 10 attachments)', async () => {
    const alice = await connect(keys.alice!);
    const jobId = await createJob(alice);
    const tasks = Array.from({ length: 1000 }, (_, i) => new Float64Array([i]));
    const answer = await ask(alice, 'job:submit', { jobId, batchId: 'typed', tasks });
    expect(answer).toMatchObject({ ok: true, data: { count: 1000 } });
  });
});

describe('a socket that stops reading', () => {
  it('is disconnected once its answers pile up, instead of growing server memory', async () => {
    const alice = await connect(keys.alice!);
    // Answers of ~60 KB each: 200 jobs listed per request.
    for (let i = 0; i < 200; i++)
      await createJob(alice, { name: `listed-${'n'.repeat(150)}-${i}` });
    const { ws } = await rawSocket(keys.alice!);
    const connected = env.server.io.sockets.sockets.size;
    // Stop reading: the kernel buffers fill, then the server's queue would grow for ever.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const before = process.memoryUsage().rss;
    let sent = 0;
    const flood = setInterval(() => {
      for (let i = 0; i < 50 && sent < 4000; i++) ws.send(`42${1000 + sent++}["jobs:list",{}]`);
    }, 5);
    await until(() => env.server.io.sockets.sockets.size < connected, {
      timeoutMs: 30_000,
      intervalMs: 20,
      what: 'the flooding socket disconnected',
    });
    clearInterval(flood);
    // Without the cap, 4,000 answers of ~150 KB would be ~600 MB queued for this socket.
    expect((process.memoryUsage().rss - before) / 1024 / 1024).toBeLessThan(150);
    ws.terminate();
  }, 40_000);
});

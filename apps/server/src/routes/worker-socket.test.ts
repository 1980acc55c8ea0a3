import { describe, expect, it } from 'vitest';
import { BYTES_TAG } from '@tabgrid/protocol/bytes';
import { WORKER_LIMITS, WorkerCloseCode } from '@tabgrid/protocol/worker';
import type { AppOptions } from '../app.js';
import { loadConfig } from '../config.js';
import type { WorkerSocketOptions } from './worker-socket.js';
import { NodeWorker } from '../testing/node-worker.js';
import { tempDir } from '../testing/temp-dir.js';
import { serversPerTest } from '../testing/vitest.js';

const servers = serversPerTest();

/** A listening server on a free port; closed after each test. */
async function start(workerSocket?: WorkerSocketOptions, more: Partial<AppOptions> = {}) {
  const env = await servers.start({ workerSocket, ...more });
  return { app: env.server, wsUrl: env.wsUrl, http: env.url };
}

/** A worker that has said hello and been welcomed. */
async function greeted(wsUrl: string): Promise<NodeWorker> {
  const worker = new NodeWorker(wsUrl);
  await worker.opened;
  const welcome = new Promise((resolve) => worker.socket.once('message', resolve));
  worker.hello();
  await welcome;
  return worker;
}

async function healthy(http: string): Promise<boolean> {
  const res = await fetch(`${http}/healthz`);
  return res.status === 200 && ((await res.json()) as { ok: boolean }).ok;
}

/** A binary frame with this header text and attachment, built by hand (as an attacker would). */
function binaryFrame(header: string, attachment: Uint8Array): Buffer {
  const head = Buffer.from(header);
  const frame = Buffer.alloc(4 + head.length + attachment.length);
  frame.writeUInt32LE(head.length, 0);
  head.copy(frame, 4);
  frame.set(attachment, 4 + head.length);
  return frame;
}

describe('the worker socket, facing hostile frames', () => {
  it('closes a socket whose first frame is large, and keeps serving', async () => {
    const { wsUrl, http } = await start();
    const worker = new NodeWorker(wsUrl);
    await worker.opened;
    worker.send('x'.repeat(WORKER_LIMITS.maxPreHelloFrameBytes + 1));
    await worker.closed;
    expect(worker.closeCode).toBe(WorkerCloseCode.FRAME_TOO_LARGE);
    expect(worker.closeReason).toMatch(/before hello may hold 16384 bytes/);
    expect(await healthy(http)).toBe(true);
  });

  it('closes a socket that sends a report frame over 256 KB, unread, and keeps serving', async () => {
    const { wsUrl, http } = await start();
    const worker = await greeted(wsUrl);
    const line = { level: 'log', message: 'x'.repeat(1_900), count: 1, at: 1 };
    const logs = Array.from({ length: 140 }, () => line); // ~270 KB: over the cap by a little
    worker.send(JSON.stringify({ type: 'report', items: [{ jobId: 'j', index: 0, logs }] }));
    await worker.closed;
    expect(worker.closeCode).toBe(WorkerCloseCode.FRAME_TOO_LARGE);
    expect(worker.closeReason).toMatch(/report frame may hold 262144 bytes at most/);
    expect(await healthy(http)).toBe(true);
  });

  it('closes a socket that sends many tags pointing at one attachment, before any work', async () => {
    const { app, wsUrl, http } = await start();
    const worker = await greeted(wsUrl);
    const attachment = new Uint8Array(1024 * 1024);
    const item = (index: number) =>
      `{"jobId":"j","index":${index},"ms":1,"ok":true,"value":{"${BYTES_TAG}":"Uint8Array","at":0,"length":${attachment.length}}}`;
    const header = `{"type":"outcomes","credit":0,"items":[${Array.from({ length: 4000 }, (_, i) => item(i)).join(',')}]}`;
    worker.socket.send(binaryFrame(header, attachment));
    await worker.closed;
    expect(worker.closeCode).toBe(WorkerCloseCode.PROTOCOL_ERROR);
    expect(worker.closeReason).toMatch(/overlap/);
    expect(await healthy(http)).toBe(true);
    expect(app.scheduler.workers.size).toBe(0);
  });

  it('closes a socket that sends a value nested 10,000 deep', async () => {
    const { wsUrl, http } = await start();
    const worker = await greeted(wsUrl);
    const deep = '['.repeat(10_000) + '1' + ']'.repeat(10_000);
    worker.send(
      `{"type":"outcomes","credit":0,"items":[{"jobId":"j","index":0,"ms":1,"ok":true,"value":${deep}}]}`,
    );
    await worker.closed;
    expect(worker.closeCode).toBe(WorkerCloseCode.PROTOCOL_ERROR);
    expect(worker.closeReason).toMatch(/nested deeper than/);
    expect(await healthy(http)).toBe(true);
  });

  it('closes a socket announcing ms: 1e308', async () => {
    const { wsUrl } = await start();
    const worker = await greeted(wsUrl);
    worker.send(
      '{"type":"outcomes","credit":0,"items":[{"jobId":"j","index":0,"ms":1e308,"ok":true,"value":1}]}',
    );
    await worker.closed;
    expect(worker.closeCode).toBe(WorkerCloseCode.PROTOCOL_ERROR);
    expect(worker.closeReason).toMatch(/ms/);
  });

  it('takes large frames once hello is accepted', async () => {
    const { wsUrl } = await start();
    const worker = await greeted(wsUrl);
    // An outcome for a task it does not hold: dropped by the scheduler, the socket stays open.
    worker.send({
      type: 'credit',
      slots: 1,
      padding: 'x'.repeat(WORKER_LIMITS.maxPreHelloFrameBytes * 2),
    });
    worker.send({ type: 'credit', slots: 1 });
    const pong = new Promise((resolve) => worker.socket.once('pong', resolve));
    worker.socket.ping();
    await pong;
    expect(worker.closeCode).toBeUndefined();
    worker.close();
  });

  it('reads outcomes frames over a megabyte through the pump, in order with the small ones behind them', async () => {
    const env = await servers.start();
    const worker = env.adopt(new NodeWorker(env.wsUrl, { credit: 4 }));
    await worker.opened;
    worker.hello();
    const job = await env.tg.createJob({
      // Every third result is 2 MB: its outcomes frame goes to the pump, and the frames the
      // worker sends after it wait behind it.
      program: `function Run(i) { return i % 3 === 0 ? String(i).repeat(2 * 1024 * 1024 / String(i).length + 1) : i }`,
    });
    const values = await job.map(Array.from({ length: 12 }, (_, i) => i + 1));
    values.forEach((value, i) => {
      const input = i + 1;
      if (input % 3 !== 0) expect(value).toBe(input);
      else expect((value as string).length).toBeGreaterThan(2 * 1024 * 1024);
    });
    expect(worker.closeCode).toBeUndefined();
  });

  it('passes the remote address to the scheduler', async () => {
    const { app, wsUrl } = await start();
    const worker = await greeted(wsUrl);
    const [session] = [...app.scheduler.workers.all()];
    expect(session?.link.address).toBe('127.0.0.1');
    worker.close();
  });

  it('takes the forwarded address from a trusted proxy only', async () => {
    const { app, wsUrl } = await start(undefined, { trustProxy: ['127.0.0.1'] });
    const forwarded = new NodeWorker(wsUrl, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    await forwarded.opened;
    const [session] = [...app.scheduler.workers.all()];
    expect(session?.link.address).toBe('203.0.113.7');
    forwarded.close();

    const untrusted = await start();
    const spoofed = new NodeWorker(untrusted.wsUrl, {
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    await spoofed.opened;
    const [plain] = [...untrusted.app.scheduler.workers.all()];
    expect(plain?.link.address).toBe('127.0.0.1');
    spoofed.close();
  });
});

describe('the worker socket, per address', () => {
  it('caps the sockets one address holds, and frees a slot when one closes', async () => {
    const { wsUrl } = await start({ maxWorkersPerAddress: 2 });
    const first = await greeted(wsUrl);
    await greeted(wsUrl);
    const third = new NodeWorker(wsUrl);
    await third.closed;
    expect(third.closeCode).toBe(WorkerCloseCode.TOO_MANY_SOCKETS);
    expect(third.closeReason).toMatch(/Too many worker sockets from one address \(2\)/);
    first.close();
    await first.closed;
    // The server notices the close a moment after the client: retry until the slot is free.
    for (let attempt = 0; ; attempt++) {
      const next = new NodeWorker(wsUrl);
      const outcome = await Promise.race([next.closed.then(() => 'closed'), greetedOrNull(next)]);
      if (outcome !== 'closed') break;
      expect(attempt).toBeLessThan(50);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('takes its cap from TABGRID_MAX_WORKERS_PER_ADDRESS', async () => {
    const dataDir = tempDir('tabgrid-config-');
    try {
      const env = { TABGRID_DATA_DIR: dataDir.path, TABGRID_ADMIN_TOKEN: 'a-test-admin-token' };
      expect(loadConfig(env).maxWorkersPerAddress).toBeUndefined();
      const config = loadConfig({ ...env, TABGRID_MAX_WORKERS_PER_ADDRESS: '1' });
      expect(() => loadConfig({ ...env, TABGRID_MAX_WORKERS_PER_ADDRESS: '0' })).toThrow(
        /TABGRID_MAX_WORKERS_PER_ADDRESS must be a whole number/,
      );
      const { wsUrl } = await start({ maxWorkersPerAddress: config.maxWorkersPerAddress });
      await greeted(wsUrl);
      const second = new NodeWorker(wsUrl);
      await second.closed;
      expect(second.closeCode).toBe(WorkerCloseCode.TOO_MANY_SOCKETS);
    } finally {
      dataDir.remove();
    }
  });

  it('closes a socket that never says hello', async () => {
    const { wsUrl } = await start({ helloTimeoutMs: 50 });
    const silent = new NodeWorker(wsUrl);
    await silent.closed;
    expect(silent.closeCode).toBe(WorkerCloseCode.PROTOCOL_ERROR);
    expect(silent.closeReason).toMatch(/No hello within 50 ms/);
  });
});

/** Resolves 'welcomed' once `worker` is welcomed (it never resolves if the socket is refused). */
async function greetedOrNull(worker: NodeWorker): Promise<string> {
  await worker.opened;
  const welcome = new Promise((resolve) => worker.socket.once('message', resolve));
  worker.hello();
  await welcome;
  return 'welcomed';
}

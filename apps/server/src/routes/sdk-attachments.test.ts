/**
 * socket.io's attachment bound on the SDK socket, on a real server and real sockets: its parser
 * takes 10 binary attachments a message by default, and past that drops the connection. Both ends
 * take MAX_SOCKET_ATTACHMENTS (10,000); the SDK cuts submission batches below it, the server
 * cuts pushes below it, and one value over it is refused naming the limit.
 */
import { describe, expect, it } from 'vitest';
import { MAX_SOCKET_ATTACHMENTS } from '@tabgrid/protocol/attachments';
import { BYTES_TAG } from '@tabgrid/protocol/bytes';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { NodeWorker } from '../testing/node-worker.js';
import { until } from '../testing/until.js';
import { serverPerTest } from '../testing/vitest.js';

const env = serverPerTest();

/**
 * A program whose result holds `n` typed arrays in the text form (what a tab's frame decodes
 * to); the NodeWorker sends it as it is. The tag's key is built, not written: a job frame whose
 * text holds it would go as a binary frame, which the NodeWorker does not read.
 */
const [tagHead, tagTail] = BYTES_TAG.split('.');
const manyArrays = `function Run(n) {
  const tag = { ['${tagHead}' + '.' + '${tagTail}']: 'Uint16Array', base64: 'AQACAA==' };
  return { n, arrays: Array.from({ length: n }, () => tag) };
}`;

describe('typed arrays beyond socket.io default of 10 attachments', () => {
  it('takes submission batches of thousands of typed arrays, cut below the bound', async () => {
    const job = await env.tg.createJob({ program: 'function Run(d) { return d }' });
    // 3 per task: 12,000 in all, one batch by count and size, so the SDK cuts it in two.
    const tasks = Array.from({ length: 4_000 }, (_, i) => ({
      f: new Float32Array([i]),
      b: new Uint8Array([i & 0xff]),
      w: new BigInt64Array([BigInt(-i)]),
    }));
    const { count } = await job.submit(tasks);
    expect(count).toBe(4_000);
    expect((await job.status()).total).toBe(4_000);
  }, 30_000);

  it('pushes results of any number of typed arrays to the SDK, restored', async () => {
    const worker = env.adopt(new NodeWorker(env.wsUrl, { credit: 100 }));
    await worker.opened;
    worker.hello();
    const job = await env.tg.createJob({ program: manyArrays });
    // 30 results of 400 arrays settle together (12,000 attachments: two pushes), and one result
    // of more than a message carries (it goes in the text form, decoded the same by the SDK).
    const sizes = [...Array.from({ length: 30 }, () => 400), MAX_SOCKET_ATTACHMENTS + 5, 3];
    await job.submit(sizes);
    await job.close();
    // Read once all settled: the stream then pushes them from the store in one go.
    await until(async () => (await job.status()).state === 'done');
    const seen = new Map<number, unknown>();
    for await (const out of job.results()) seen.set(out.index, out.value);
    expect(seen.size).toBe(sizes.length);
    for (const [index, value] of seen) {
      const { n, arrays } = value as { n: number; arrays: unknown[] };
      expect(n).toBe(sizes[index]);
      expect(arrays).toHaveLength(n);
      expect(arrays.every((a) => a instanceof Uint16Array && a[0] === 1 && a[1] === 2)).toBe(true);
    }
  }, 30_000);

  it("refuses a job's args of more typed arrays than a message carries, before sending", async () => {
    const args = Array.from({ length: MAX_SOCKET_ATTACHMENTS + 1 }, () => new Uint8Array(1));
    await expect(
      env.tg.createJob({ program: 'function Run(d) { return d }', args }),
    ).rejects.toMatchObject({
      code: ErrorCode.PAYLOAD_TOO_LARGE,
      message: expect.stringMatching(/^The job's args holds more than 10,000 typed arrays/),
    });
    expect(await env.tg.jobs()).toEqual([]);
  });
});

/**
 * Attack families that try to exhaust the server through the worker socket: a thousand sockets
 * from one address, huge frames and long strings, binary frames amplifying one attachment.
 */
import { BYTES_TAG } from '@tabgrid/protocol/bytes';
import { lanes, sleep, type AttackFamily } from './attack.js';
import type { HostileWorker } from './hostile-worker.js';
import { int, pick, randomBytes } from './malformed-frames.js';
import { EMPTY_OUTCOMES, binaryFrame, openAttacker, outcomes } from './worker-attack-kit.js';

export const sockets: AttackFamily = {
  name: 'sockets',
  target: 'worker',
  about: 'a thousand sockets from one address held open at once, most of them idle after hello',
  async run(ctx, rng) {
    const open: HostileWorker[] = [];
    await lanes(20, async (lane) => {
      for (let i = lane; i < 1_000; i += 20) {
        const w = await openAttacker(ctx, 'sockets', '127.0.0.77');
        if (!w) continue;
        open.push(w);
        if (rng.chance(0.6)) {
          await w.hello(1, 0);
          for (let k = 0; k < 5; k++)
            await w.send(pick(rng, [EMPTY_OUTCOMES, '{"type":"credit","slots":0}']));
        }
      }
    });
    await sleep(3_000);
    await Promise.all(open.map((w) => w.close()));
  },
};

export const oversize: AttackFamily = {
  name: 'oversize',
  target: 'worker',
  about:
    'long strings in every field, frames of 48 MB (under the 64 MB cap) one after another, one of 70 MB',
  async run(ctx, rng) {
    const bait = ctx.jobs.bait;
    const small: string[] = [
      JSON.stringify({
        type: 'hello',
        protocol: 1,
        threads: 1,
        userAgent: 'u'.repeat(1_001),
        credit: 0,
      }),
      JSON.stringify({
        type: 'hello',
        protocol: 1,
        threads: 1,
        userAgent: 'u'.repeat(1_000_000),
        credit: 0,
      }),
      outcomes([`{"jobId":"${'j'.repeat(100_000)}","index":0,"ms":1,"ok":true,"value":1}`]),
      outcomes([
        `{"jobId":"${bait}","index":0,"ms":1,"ok":false,"error":{"name":"E","message":"${'m'.repeat(5_000_000)}","stack":"${'s'.repeat(5_000_000)}"}}`,
      ]),
      outcomes([
        `{"jobId":"${bait}","index":${int(rng, 0, 100)},"ms":1,"ok":true,"value":"${'v'.repeat(8_000_000)}"}`,
      ]),
      outcomes(
        Array.from(
          { length: 200_000 },
          (_, i) =>
            `{"jobId":"${bait}","index":${i},"ms":1,"ok":false,"error":{"name":"E","message":"","stack":""}}`,
        ),
      ),
      JSON.stringify({
        type: 'release',
        tasks: Array.from({ length: 300_000 }, (_, i) => ({ jobId: bait, index: i })),
      }),
    ];
    for (const frame of small) {
      const w = await openAttacker(ctx, 'oversize');
      if (!w) continue;
      if (!frame.startsWith('{"type":"hello"')) await w.hello(1, 0);
      await w.send(frame);
      await w.drain();
      await Promise.race([w.closed, sleep(500)]);
      await w.close();
    }
    // Big frames just under the 64 MB cap: one at a time, then two at once (never several
    // above the cap in flight: the attacker's memory counts too). Then one above the cap.
    const big = (mb: number) =>
      outcomes([
        `{"jobId":"${bait}","index":0,"ms":1,"ok":true,"value":"${'x'.repeat(mb * 1024 * 1024 - 200)}"}`,
      ]);
    const sixty = big(60);
    const sendBig = async (frame: string) => {
      const w = await openAttacker(ctx, 'oversize');
      if (!w) return;
      await w.hello(1, 0);
      await w.send(frame);
      await w.drain();
      await Promise.race([w.closed, sleep(1_500)]);
      await w.close();
    };
    await sendBig(sixty);
    await sendBig(sixty);
    await Promise.all([sendBig(sixty), sendBig(sixty)]);
    await sendBig(big(70));
    const binary = new Uint8Array(4 + 2 + 60 * 1024 * 1024);
    new DataView(binary.buffer).setUint32(0, 2, true);
    binary.set(new TextEncoder().encode('{}'), 4);
    const w = await openAttacker(ctx, 'oversize');
    if (w) {
      await w.send(binary);
      await w.drain();
      await Promise.race([w.closed, sleep(3_000)]);
      await w.close();
    }
  },
};

export const binaryAmplify: AttackFamily = {
  name: 'binary-amplify',
  target: 'worker',
  about:
    'binary frames whose header points thousands of bytes tags at one 1 MB attachment, before hello (#11 item 1)',
  async run(ctx, rng) {
    const attachment = randomBytes(rng, 1 << 20);
    const tag = (at: unknown, length: unknown, kind: unknown = 'Uint8Array') =>
      JSON.stringify({ [BYTES_TAG]: kind, at, length });
    const header = (values: string[]) =>
      `{"type":"outcomes","credit":0,"items":[{"jobId":"${ctx.jobs.bait}","index":0,"ms":1,"ok":true,"value":[${values.join(',')}]}]}`;
    // Broken tags first: offsets out of range, wrong types, unknown kinds.
    const broken = [
      tag(-1, 10),
      tag(0, -5),
      tag(1.5, 2),
      tag('0', 1),
      tag(0, 1 << 30),
      tag(2 ** 53, 1),
      tag(0, 1, 'Evil'),
      tag(0, 1, null),
      JSON.stringify({ [BYTES_TAG]: 'Uint8Array' }),
      JSON.stringify({ [BYTES_TAG]: 'Uint8Array', base64: '!!' }),
    ];
    for (let i = 0; i < 200; i++) {
      const w = await openAttacker(ctx, 'binary-amplify');
      if (!w) continue;
      if (i % 2) await w.hello(1, 0);
      await w.send(binaryFrame(header([pick(rng, broken)]), attachment.subarray(0, 1024)));
      await w.drain();
      await w.close();
    }
    // Growing amplification: 10, 100, then 2,000 tags on the same megabyte (a ~1.1 MB frame).
    for (const tags of [10, 100, 2_000]) {
      const w = await openAttacker(ctx, 'binary-amplify');
      if (!w) continue;
      await w.send(
        binaryFrame(
          header(Array.from({ length: tags }, () => tag(0, attachment.length))),
          attachment,
        ),
      );
      await w.drain();
      await Promise.race([w.closed, sleep(3_000)]);
      await w.close();
    }
  },
};

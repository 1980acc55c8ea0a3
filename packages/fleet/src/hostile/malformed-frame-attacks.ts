/**
 * Attack families of frames that break the worker protocol: random bytes and text, bad JSON,
 * frames out of order, values nested too deep (issue #11 names the item each one probes).
 */
import { sleep, lanes, type AttackFamily } from './attack.js';
import {
  badJson,
  deepJson,
  garbageBinary,
  garbageText,
  int,
  outOfOrder,
} from './malformed-frames.js';
import { bursts, openAttacker, outcomes } from './worker-attack-kit.js';

export const garbage: AttackFamily = {
  name: 'garbage',
  target: 'worker',
  about: 'random bytes and random text, before and after hello (#11: every frame is hostile input)',
  run: (ctx, rng) =>
    bursts(
      ctx,
      'garbage',
      rng,
      { budget: 25_000, perConnection: 50, helloFirst: (r) => r.chance(0.5) },
      (r) => (r.chance(0.5) ? garbageBinary(r) : garbageText(r)),
    ),
};

export const badJsonFamily: AttackFamily = {
  name: 'bad-json',
  target: 'worker',
  about:
    'truncated and invalid JSON, wrong types, missing fields, numbers out of range, prototype keys',
  run: (ctx, rng) =>
    bursts(
      ctx,
      'bad-json',
      rng,
      { budget: 25_000, perConnection: 50, helloFirst: () => true },
      badJson,
    ),
};

export const order: AttackFamily = {
  name: 'order',
  target: 'worker',
  about: 'frames before hello, double hello, other protocol versions, threads out of range',
  async run(ctx, rng) {
    let sent = 0;
    const deadline = Date.now() + 30_000;
    await lanes(8, async () => {
      while (sent < 6_000 && Date.now() < deadline) {
        const w = await openAttacker(ctx, 'order');
        if (!w) continue;
        const { helloFirst, frames } = outOfOrder(rng);
        if (helloFirst && (await w.hello(1, 0))) sent++;
        sent += await w.sendAll(frames);
        await w.drain();
        await w.close();
      }
    });
  },
};

export const deep: AttackFamily = {
  name: 'deep',
  target: 'worker',
  about:
    'values nested 3,500 / 6,000 / 10,000 levels in real answers, forged answers, hello and release (#11 item 3)',
  async run(ctx, rng) {
    const depths = [3_500, 6_000, 10_000];
    const w = await openAttacker(ctx, 'deep', '127.0.4.1');
    if (w) {
      let poisoned = 0;
      let round = 0;
      // Real answers: honest values for the honest jobs, nesting for the bait job's tasks,
      // credit given back until nine bait tasks (three of each depth) got nested answers.
      w.onTasks((tasks) => {
        const items = tasks.map((t) => {
          if (t.jobId !== ctx.jobs.bait || poisoned >= 9) return w.honestItem(t, 1);
          poisoned++;
          ctx.tally.note('deep', 'bait task answered with nesting');
          const depth = depths[round++ % 3] as number;
          return `{"jobId":"${t.jobId}","index":${t.index},"ms":1,"ok":true,"value":${deepJson(depth, rng.chance(0.5) ? 'array' : 'object')}}`;
        });
        w.forget(tasks);
        void w.send(outcomes(items, poisoned >= 9 ? 0 : tasks.length));
      });
      await w.hello(1, 3);
      const end = Date.now() + 8_000;
      while (poisoned < 9 && w.isOpen && Date.now() < end) await sleep(50);
      await Promise.race([w.closed, sleep(1_000)]);
      await w.close();
    }
    // Forged answers, hellos and releases carrying nesting, on fresh sockets.
    for (let i = 0; i < 90; i++) {
      const depth = depths[i % 3] as number;
      const f = await openAttacker(ctx, 'deep');
      if (!f) continue;
      const nested = deepJson(depth, i % 2 ? 'array' : 'object');
      switch (i % 5) {
        case 0:
          await f.send(
            `{"type":"hello","protocol":1,"threads":1,"userAgent":"d","credit":0,"extra":${nested}}`,
          );
          break;
        case 1:
          await f.hello(1, 0);
          await f.send(
            outcomes([
              `{"jobId":"${ctx.jobs.bait}","index":${int(rng, 0, 500)},"ms":1,"ok":true,"value":${nested}}`,
            ]),
          );
          break;
        case 2:
          await f.hello(1, 0);
          await f.send(
            `{"type":"release","tasks":[{"jobId":"${ctx.jobs.bait}","index":0,"x":${nested}}]}`,
          );
          break;
        case 3:
          await f.send(nested);
          break;
        default: {
          const header = new TextEncoder().encode(
            `{"type":"outcomes","credit":0,"items":[],"x":${nested}}`,
          );
          const frame = new Uint8Array(4 + header.length);
          new DataView(frame.buffer).setUint32(0, header.length, true);
          frame.set(header, 4);
          await f.send(frame);
        }
      }
      await f.drain();
      await Promise.race([f.closed, sleep(300)]);
      await f.close();
    }
  },
};

/**
 * Attack families against `/ws/worker`, the socket any browser on the internet may open. Each
 * one is a simulated worker that lies in one way (issue #11 names the item it probes).
 */
import { BYTES_TAG } from '@tabgrid/protocol/bytes';
import type { Rng } from '../random.js';
import { botAddress, lanes, sleep, type AttackContext, type AttackFamily } from './attack.js';
import { HostileWorker, openHostile, type HeldTask } from './hostile-worker.js';
import {
  badJson,
  deepJson,
  garbageBinary,
  garbageText,
  int,
  outOfOrder,
  pick,
  randomBytes,
} from './malformed-frames.js';

/** A frame with no leased task in it and nothing to do: what liveness must not be fooled by. */
const EMPTY_OUTCOMES = '{"type":"outcomes","credit":0,"items":[]}';

function worker(
  ctx: AttackContext,
  family: string,
  localAddress: string = botAddress(),
): Promise<HostileWorker | undefined> {
  return openHostile({
    url: ctx.wsUrl,
    family,
    tally: ctx.tally,
    programs: ctx.programs,
    localAddress,
  });
}

/**
 * Many short connections, each pipelining `perConnection` frames from `make` (optionally after
 * a valid hello), until `budget` frames went out. The server may close a connection at its
 * first bad frame; what was already on the wire still reaches it.
 */
async function bursts(
  ctx: AttackContext,
  family: string,
  rng: Rng,
  options: {
    budget: number;
    perConnection: number;
    helloFirst: (rng: Rng) => boolean;
    lanes?: number;
  },
  make: (rng: Rng) => string | Uint8Array,
): Promise<void> {
  let sent = 0;
  // A server that refuses everything must not keep the suite waiting: the count check says so.
  const deadline = Date.now() + 40_000;
  await lanes(options.lanes ?? 8, async () => {
    while (sent < options.budget && Date.now() < deadline) {
      const w = await worker(ctx, family);
      if (!w) {
        await sleep(50);
        continue;
      }
      if (options.helloFirst(rng) && (await w.hello(1, 0))) sent++;
      for (let i = 0; i < options.perConnection && sent < options.budget; i++) {
        if (!(await w.send(make(rng)))) break;
        sent++;
      }
      await w.drain();
      await w.close();
    }
  });
}

/** The job's program's answer, or a lie where `lie` says so. */
function answer(
  w: HostileWorker,
  task: HeldTask,
  ms: number | string,
  lie?: (task: HeldTask) => string | undefined,
): string {
  const poisoned = lie?.(task);
  return poisoned ?? w.honestItem(task, ms);
}

function outcomes(items: string[], credit = 0): string {
  return `{"type":"outcomes","credit":${credit},"items":[${items.join(',')}]}`;
}

const garbage: AttackFamily = {
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

const badJsonFamily: AttackFamily = {
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

const order: AttackFamily = {
  name: 'order',
  target: 'worker',
  about: 'frames before hello, double hello, other protocol versions, threads out of range',
  async run(ctx, rng) {
    let sent = 0;
    const deadline = Date.now() + 30_000;
    await lanes(8, async () => {
      while (sent < 6_000 && Date.now() < deadline) {
        const w = await worker(ctx, 'order');
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

const sockets: AttackFamily = {
  name: 'sockets',
  target: 'worker',
  about: 'a thousand sockets from one address held open at once, most of them idle after hello',
  async run(ctx, rng) {
    const open: HostileWorker[] = [];
    await lanes(20, async (lane) => {
      for (let i = lane; i < 1_000; i += 20) {
        const w = await worker(ctx, 'sockets', '127.0.0.77');
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

const bounds: AttackFamily = {
  name: 'bounds',
  target: 'worker',
  about:
    'threads 1024, credit 1e6, credit frames of 1e6 slots, ms 1e308 / MAX_VALUE on real answers (#11 items 4, 5)',
  async run(ctx, rng) {
    let sent = 0;
    const budget = 10_000;
    const end = Date.now() + 8_000;
    await lanes(4, async (lane) => {
      // Reconnects when the server closes it: a bound it enforces must not end the attack.
      while (sent < budget && Date.now() < end) {
        const w = await worker(ctx, 'bounds', `127.0.1.${lane + 1}`);
        if (!w) return;
        await w.hello(1024, 1_000_000);
        await w.welcomed(2_000);
        const hugeMs = ['1e308', '1.7976931348623157e308', '1e300'];
        // Real answers to every leased task (so the honest job's values stay right), with a
        // compute time that overflows on the bait job's tasks.
        w.onTasks((tasks) => {
          const items = tasks.map((t) =>
            answer(w, t, t.jobId === ctx.jobs.bait ? pick(rng, hugeMs) : 1),
          );
          w.forget(tasks);
          void w.send(outcomes(items, 1_000_000)).then((ok) => ok && sent++);
        });
        while (sent < budget && Date.now() < end && w.isOpen) {
          if (await w.send(JSON.stringify({ type: 'credit', slots: 1_000_000 }))) sent++;
          if (sent % 50 === 0) await sleep(1);
        }
        await w.close();
      }
      // A few that the schema refuses outright.
      for (const ms of ['-1', '"NaN"', '"1e308"', 'null']) {
        const probe = await worker(ctx, 'bounds');
        if (!probe) continue;
        await probe.hello(1, 0);
        if (
          await probe.send(
            outcomes([`{"jobId":"${ctx.jobs.bait}","index":0,"ms":${ms},"ok":true,"value":1}`]),
          )
        )
          sent++;
        await probe.close();
      }
    });
  },
};

const forge: AttackFamily = {
  name: 'forge',
  target: 'worker',
  about:
    'outcomes for tasks leased to others (job ids learned from real tasks): wrong values, timeouts, errors (#11 item 2)',
  async run(ctx, rng) {
    // The scout takes real tasks to learn job ids and index ranges, and hands them back.
    const scout = await worker(ctx, 'forge', '127.0.2.1');
    if (!scout) return;
    // Credit enough to be handed some of every job's queued tasks.
    await scout.hello(64, 1_000);
    await scout.welcomed();
    scout.onTasks((tasks) => {
      scout.forget(tasks);
      void scout.send(
        JSON.stringify({
          type: 'release',
          tasks: tasks.map(({ jobId, index }) => ({ jobId, index })),
        }),
      );
    });
    const learn = setInterval(() => void scout.send('{"type":"credit","slots":200}'), 200);
    const start = Date.now();
    while (scout.jobsSeen.size < 3 && Date.now() - start < 10_000) await sleep(50);
    let sent = 0;
    const budget = 20_000;
    const durationMs = 8_000;
    const began = Date.now();
    await lanes(4, async (lane) => {
      // Forgers never take a task (credit 0): nothing they send is about a task leased to them.
      // Closed for their offences, they come back from the next address.
      while (sent < budget && Date.now() < began + durationMs + 10_000) {
        const w = await worker(ctx, 'forge', `127.0.2.${lane + 2}`);
        if (!w) return;
        await w.hello(1, 0);
        await w.welcomed(2_000);
        while (sent < budget && w.isOpen) {
          const jobs = [...scout.jobsSeen.entries()];
          const items: string[] = [];
          for (let i = 0; i < 10; i++) {
            const [jobId, newest] = jobs.length > 0 ? pick(rng, jobs) : ['job-unknown', 100];
            // Aim near the newest tasks seen: those are the ones leased to someone right now.
            const index = Math.max(0, newest - int(rng, -40, 120));
            const id = rng.chance(0.05) ? `${jobId}x` : jobId;
            items.push(
              pick(rng, [
                `{"jobId":"${id}","index":${index},"ms":1,"ok":true,"value":${-index - 1}}`,
                `{"jobId":"${id}","index":${index},"ms":1,"ok":true,"value":"forged"}`,
                `{"jobId":"${id}","index":${index},"ms":1,"ok":false,"error":{"name":"TimeoutError","message":"forged","stack":"","timedOut":true}}`,
                `{"jobId":"${id}","index":${index},"ms":1,"ok":false,"error":{"name":"Error","message":"forged","stack":""}}`,
              ]),
            );
          }
          if (await w.send(outcomes(items))) sent++;
          // Spread the budget over the duration, so the forgery meets many leases.
          const due = began + (sent / budget) * durationMs;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        await w.close();
      }
    });
    clearInterval(learn);
    await scout.close();
  },
};

const quorumPair: AttackFamily = {
  name: 'quorum-pair',
  target: 'worker',
  about:
    'two sockets from one address agree on a lie about a redundancy-2 job, reconnecting to shed strikes (#11 item 6)',
  async run(ctx) {
    const end = Date.now() + 12_000;
    await lanes(2, async () => {
      while (Date.now() < end) {
        const w = await worker(ctx, 'quorum-pair', '127.0.0.66');
        if (!w) return;
        w.onTasks((tasks) => {
          const items = tasks.map((t) =>
            answer(w, t, 1, (task) =>
              task.jobId === ctx.jobs.quorum
                ? `{"jobId":"${task.jobId}","index":${task.index},"ms":1,"ok":true,"value":${Number(w.honestValue(task)) + 1}}`
                : undefined,
            ),
          );
          w.forget(tasks);
          void w.send(outcomes(items, tasks.length));
        });
        await w.hello(64, 200);
        // Come back as a "new" worker every few seconds.
        await Promise.race([sleep(3_000), w.closed]);
        await w.close();
      }
    });
  },
};

const hoard: AttackFamily = {
  name: 'hoard',
  target: 'worker',
  about:
    'threads 1024 + credit 1e6 + ms 0, then sitting on tasks kept alive by empty outcomes and forged releases (#11 item 4)',
  async run(ctx, rng) {
    const HOARDERS = 3;
    const QUICK = 3;
    // Longer than the honest job's timeoutMs (2 s) plus the server's 15 s stall grace.
    const durationMs = 25_000;
    const stuckAfterMs = 20_000;
    const settledBefore = ctx.honestSettled();
    let sent = 0;
    let stuck = 0;
    let quickAnswers = 0;
    const start = Date.now();
    const end = start + durationMs;
    await lanes(HOARDERS, async (lane) => {
      // A hoarder the server closes comes straight back: an attacker would.
      while (Date.now() < end) {
        const w = await worker(ctx, 'hoard', `127.0.3.${lane + 1}`);
        if (!w) return;
        let answered = 0;
        // A few quick, true answers with ms 0 make the job look instant: a huge hold limit.
        w.onTasks((tasks) => {
          const quick = tasks
            .filter((t) => t.jobId === ctx.jobs.honest)
            .slice(0, Math.max(0, QUICK - answered));
          if (quick.length === 0) return;
          answered += quick.length;
          quickAnswers += quick.length;
          w.forget(quick);
          void w.send(
            outcomes(
              quick.map((t) => w.honestItem(t, 0)),
              0,
            ),
          );
        });
        await w.hello(1024, 1_000_000);
        await w.welcomed(2_000);
        while (Date.now() < end && w.isOpen) {
          // Empty outcomes look like progress; releases of tasks it never held cost nothing.
          const frame = rng.chance(0.7)
            ? EMPTY_OUTCOMES
            : JSON.stringify({
                type: 'release',
                tasks: Array.from({ length: 10 }, () => ({
                  jobId: ctx.jobs.honest,
                  index: int(rng, 0, 2_500),
                })).filter((t) => !w.held.has(`${t.jobId}#${t.index}`)),
              });
          if (await w.send(frame)) sent++;
          const due = start + (sent / 20_000) * durationMs;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        if (!w.isOpen) {
          ctx.tally.note('hoard', 'closed by the server');
          continue;
        }
        for (const t of w.held.values()) {
          if (
            t.jobId === ctx.jobs.honest &&
            Date.now() - t.at > stuckAfterMs &&
            !ctx.honestIndexSettled(t.index)
          )
            stuck++;
        }
        ctx.tally.note('hoard', `open at the end, holding ${w.held.size}`);
        await w.close();
      }
    });
    const byOthers = ctx.honestSettled() - settledBefore - quickAnswers;
    return [
      {
        what: `no task of the honest job sat with a hoarder for ${stuckAfterMs} ms`,
        ok: stuck === 0,
        detail: `${stuck} tasks of the honest job held by hoarders for over ${stuckAfterMs} ms, unsettled`,
      },
      {
        what: 'honest workers kept finishing the honest job while hoarders sat on the grid',
        ok: byOthers >= 20,
        detail: `${byOthers} outcomes of the honest job settled by others during ${durationMs} ms of hoarding`,
      },
    ];
  },
};

const oversize: AttackFamily = {
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
      const w = await worker(ctx, 'oversize');
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
      const w = await worker(ctx, 'oversize');
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
    const w = await worker(ctx, 'oversize');
    if (w) {
      await w.send(binary);
      await w.drain();
      await Promise.race([w.closed, sleep(3_000)]);
      await w.close();
    }
  },
};

const deep: AttackFamily = {
  name: 'deep',
  target: 'worker',
  about:
    'values nested 3,500 / 6,000 / 10,000 levels in real answers, forged answers, hello and release (#11 item 3)',
  async run(ctx, rng) {
    const depths = [3_500, 6_000, 10_000];
    const w = await worker(ctx, 'deep', '127.0.4.1');
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
      const f = await worker(ctx, 'deep');
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

/** A binary frame: `header` JSON, then `attachment` bytes. */
function binaryFrame(header: string, attachment: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(header);
  const frame = new Uint8Array(4 + head.length + attachment.length);
  new DataView(frame.buffer).setUint32(0, head.length, true);
  frame.set(head, 4);
  frame.set(attachment, 4 + head.length);
  return frame;
}

const binaryAmplify: AttackFamily = {
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
      const w = await worker(ctx, 'binary-amplify');
      if (!w) continue;
      if (i % 2) await w.hello(1, 0);
      await w.send(binaryFrame(header([pick(rng, broken)]), attachment.subarray(0, 1024)));
      await w.drain();
      await w.close();
    }
    // Growing amplification: 10, 100, then 2,000 tags on the same megabyte (a ~1.1 MB frame).
    for (const tags of [10, 100, 2_000]) {
      const w = await worker(ctx, 'binary-amplify');
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

export const WORKER_FAMILIES: readonly AttackFamily[] = [
  garbage,
  badJsonFamily,
  order,
  sockets,
  bounds,
  forge,
  quorumPair,
  hoard,
  oversize,
  deep,
  binaryAmplify,
];

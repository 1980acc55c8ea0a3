/**
 * Attack families against socket.io at `/socket.io/`: without a key (broken packets, guessed
 * tokens), and with one (the admin's or a client's: malformed requests, deep and amplifying
 * arguments, thousands of subscriptions on a socket that stops reading). Issue #11 items 9, 10.
 */
import { SdkRequests } from '@tabgrid/protocol/sdk';
import type { Rng } from '../random.js';
import { botAddress, lanes, sleep, type AttackContext, type AttackFamily } from './attack.js';
import {
  deepJson,
  garbageBinary,
  garbageText,
  int,
  pick,
  randomBytes,
} from './malformed-frames.js';
import { openHostile } from './hostile-worker.js';
import { openRawSio, type RawSio } from './raw-sio.js';

function sio(
  ctx: AttackContext,
  family: string,
  localAddress: string = botAddress(),
): Promise<RawSio | undefined> {
  return openRawSio({ url: ctx.url, family, tally: ctx.tally, localAddress });
}

/** socket.io and engine.io packets that are broken in every way the parsers can meet. */
function brokenPacket(rng: Rng): string | Uint8Array {
  const packets = [
    '4',
    '42',
    '42[',
    '42["job:create"',
    '4{',
    '49',
    '4/',
    '4/nope,',
    '40/admin,{}',
    '41',
    '43',
    '431[1]',
    '44',
    '45',
    '451-',
    '459999999-["job:create",{}]',
    '45-1-[]',
    '42999999999999999999999["job:get",{}]',
    '42["__proto__",{}]',
    '42[null]',
    '42[1,2,3]',
    '42{"a":1}',
    '42"job:get"',
    '6',
    '5',
    '1',
    '9',
    'x',
    '',
    '40{"token":',
    '40[]',
    '40"token"',
    '42[]',
    `42["${'e'.repeat(10_000)}"]`,
    '42["job:get"]',
    '4\u0000',
  ];
  if (rng.chance(0.15)) return garbageBinary(rng);
  if (rng.chance(0.15)) return `4${garbageText(rng)}`;
  return pick(rng, packets);
}

const sioGarbage: AttackFamily = {
  name: 'sio-garbage',
  target: 'sdk',
  about: 'broken engine.io and socket.io packets, without a key, connected or refused first',
  async run(ctx, rng) {
    let sent = 0;
    const deadline = Date.now() + 30_000;
    await lanes(8, async () => {
      while (sent < 8_000 && Date.now() < deadline) {
        const s = await sio(ctx, 'sio-garbage');
        if (!s) continue;
        if (rng.chance(0.5))
          await s.connect(pick(rng, [undefined, { token: 'nope' }, { token: 5 }]), 2_000);
        for (let i = 0; i < 40 && sent < 8_000; i++) if (await s.send(brokenPacket(rng))) sent++;
        await sleep(20);
        await s.close();
      }
    });
  },
};

const sioBadTokens: AttackFamily = {
  name: 'sio-bad-tokens',
  target: 'sdk',
  about:
    'guessed tokens, thousands per address (brute force), and tokens of the wrong type or size (#11 item 10)',
  async run(ctx, rng) {
    let sent = 0;
    const near = `${ctx.adminToken.slice(0, -1)}${ctx.adminToken.endsWith('x') ? 'y' : 'x'}`;
    await lanes(25, async () => {
      const s = await sio(ctx, 'sio-bad-tokens', '127.0.5.1');
      if (!s) return;
      for (let i = 0; i < 200 && sent < 5_000 && s.isOpen; i++) {
        const token = pick(rng, [
          `tg_${Buffer.from(randomBytes(rng, 24)).toString('base64url')}`,
          near,
          '',
          5,
          null,
          ['tg_x'],
          { token: ctx.adminToken },
          't'.repeat(100_000),
        ]);
        sent++;
        if ((await s.connect({ token }, 5_000)) && token !== ctx.adminToken)
          ctx.tally.note('sio-bad-tokens', 'ACCEPTED A BAD TOKEN');
      }
      await s.close();
    });
  },
};

const EVENTS = Object.keys(SdkRequests);
const WRONG: readonly unknown[] = [
  null,
  0,
  -1,
  1e308,
  'x',
  '',
  [],
  {},
  { jobId: 5 },
  { jobId: '' },
  { jobId: 'j'.repeat(65) },
  { jobId: 'nope', batchId: 'b', tasks: 'x' },
  { jobId: 'nope', subscriptionId: 's', kind: 'all', from: -1 },
  { jobId: 'nope', subscriptionId: 's', kind: 'evil', from: 0 },
  { program: 5 },
  { program: '' },
  { program: 'function Run(x) { return x }', timeoutMs: 0 },
  { program: 'function Run(x) { return x }', maxAttempts: 1e9 },
  { program: 'function Run(x) { return x }', redundancy: 1e6 },
  { program: 'function Run(x) { return x }', priority: 1e308 },
  { program: 'function Run(x) { return x }', bid: 'NaN' },
  { name: 'n'.repeat(10_000) },
  { __proto__: { program: 'function Run(x) { return x }' } },
  { jobId: 'nope', batchId: 'b'.repeat(101), tasks: [] },
];
/** Payloads past a size limit: sent now and then, not in every message (each costs a megabyte). */
const HUGE: readonly unknown[] = [
  { program: 'x'.repeat(1_000_001) },
  { jobId: 'nope', batchId: 'b', tasks: Array.from({ length: 10_001 }, () => 0) },
];
/** Requests that change or delete the caller's own jobs. */
const DESTRUCTIVE = new Set(['job:cancel', 'job:delete', 'jobs:delete', 'job:close']);

/** One malformed or hostile request, as a raw socket.io text frame. */
function hostileRequest(ctx: AttackContext, rng: Rng, asAdmin: boolean): string {
  const id = int(rng, 1, 1e9);
  const name = rng.chance(0.1)
    ? pick(rng, ['job:evil', 'constructor', '__proto__', 'toString', 'x'.repeat(1000), ''])
    : pick(rng, EVENTS);
  switch (int(rng, 0, 7)) {
    case 0: // no ack at all
      return `42${JSON.stringify([name, pick(rng, WRONG)])}`;
    case 1: // many arguments, the ack not last
      return `42${id}${JSON.stringify([name, ...Array.from({ length: 50 }, () => pick(rng, WRONG))])}`;
    case 2: {
      // deep payloads where a value belongs
      const nested = deepJson(
        pick(rng, [3_500, 6_000, 10_000]),
        rng.chance(0.5) ? 'array' : 'object',
      );
      return pick(rng, [
        `42${id}["job:create",{"program":"function Run(x) { return x }","args":${nested}}]`,
        `42${id}["job:submit",{"jobId":"nope","batchId":"b${id}","tasks":[${nested}]}]`,
        `42${id}["job:get",${nested}]`,
        `42${id}["dashboard:subscribe",${nested}]`,
      ]);
    }
    case 3: // acks for pushes that never happened
      return `43${id}${JSON.stringify([pick(rng, WRONG)])}`;
    case 4: // another tenant's job (the client key must not see or touch the admin's jobs)
      if (!asAdmin) {
        const jobId = pick(rng, [ctx.jobs.honest, ctx.jobs.quorum]);
        return `42${id}${JSON.stringify([pick(rng, ['job:get', 'job:cancel', 'job:close', 'job:delete', 'job:subscribe']), { jobId, subscriptionId: `t${id}`, kind: 'all', from: 0 }])}`;
      }
      return `42${id}${JSON.stringify(['job:get', { jobId: ctx.jobs.honest }])}`;
    default: {
      // a wrong payload for a real event
      const payload = rng.chance(0.02) ? pick(rng, HUGE) : pick(rng, WRONG);
      // `jobs:delete` with any object is well formed: it would delete the caller's jobs (the
      // checked ones, or the bait), which is allowed and proves nothing. Destructive events get
      // only payloads that name no job of the caller.
      const risky =
        name === 'jobs:delete' ||
        (DESTRUCTIVE.has(name) &&
          typeof payload === 'object' &&
          payload !== null &&
          !('jobId' in payload));
      return `42${id}${JSON.stringify([name, risky ? 5 : payload])}`;
    }
  }
}

function sioEventsAs(who: 'admin' | 'client'): AttackFamily {
  return {
    name: `sio-events-${who}`,
    target: 'sdk',
    about: `malformed, unknown, ack-less, deep and cross-tenant requests with the ${who} key`,
    async run(ctx, rng) {
      const token = who === 'admin' ? ctx.adminToken : ctx.clientToken;
      let sent = 0;
      const deadline = Date.now() + 30_000;
      await lanes(4, async () => {
        while (sent < 4_000 && Date.now() < deadline) {
          const s = await sio(ctx, `sio-events-${who}`);
          if (!s) continue;
          if (!(await s.connect({ token }))) {
            await s.close();
            await sleep(100);
            continue;
          }
          for (let i = 0; i < 100 && sent < 4_000 && s.isOpen; i++) {
            if (await s.send(hostileRequest(ctx, rng, who === 'admin'))) sent++;
            if (i % 20 === 0) await sleep(5);
          }
          await sleep(200);
          await s.close();
        }
      });
    },
  };
}

const sioPlaceholder: AttackFamily = {
  name: 'sio-placeholder',
  target: 'sdk',
  about:
    'socket.io binary placeholders repeated in job args and tasks: one 1 MB attachment, 400 references (#11 item 9)',
  async run(ctx, rng) {
    const ph = (num: unknown) => JSON.stringify({ _placeholder: true, num });
    const s = await sio(ctx, 'sio-placeholder');
    if (!s || !(await s.connect({ token: ctx.clientToken }))) return;
    // Broken placeholders first: indexes that do not exist, wrong types, counts that lie.
    const small = randomBytes(rng, 64);
    for (let i = 0; i < 150; i++) {
      const t = await sio(ctx, 'sio-placeholder');
      if (!t || !(await t.connect({ token: ctx.clientToken }))) continue;
      const num = pick(rng, [1, 5, -1, '0', null, 1.5, 2 ** 40]);
      const declared = pick(rng, [0, 1, 2, 100]);
      await t.binaryEvent(
        `["job:submit",{"jobId":"${ctx.jobs.bait}","batchId":"ph${i}","tasks":[${ph(num)}]}]`,
        Array.from({ length: Math.min(declared, 2) }, () => small),
      );
      await sleep(10);
      await t.close();
    }
    // The amplification: 400 references to one megabyte in a job's args.
    const mb = randomBytes(rng, 1 << 20);
    const refs = Array.from({ length: 400 }, () => ph(0)).join(',');
    await s.binaryEvent(
      `["job:create",{"program":"function Run(x) { return x }","name":"amplified","args":[${refs}]}]`,
      [mb],
    );
    await sleep(3_000);
    // And in tasks: 20 tasks of 20 references each.
    const task = `[${Array.from({ length: 20 }, () => ph(0)).join(',')}]`;
    await s.binaryEvent(
      `["job:submit",{"jobId":"${ctx.jobs.bait}","batchId":"amp","tasks":[${Array.from({ length: 20 }, () => task).join(',')}]}]`,
      [mb],
    );
    await sleep(3_000);
    await s.close();
  },
};

/** Settled outcomes a flooded subscription gets pushed at once (the server's push batch). */
const FLOOD_RESULTS = 4_000;

/**
 * A job of the client's own with `FLOOD_RESULTS` settled results, run at full speed by a
 * helper worker of the attacker's: what every flooding subscription will be pushed.
 */
async function floodTarget(ctx: AttackContext): Promise<string | undefined> {
  const s = await sio(ctx, 'sio-subscribe-flood');
  if (!s || !(await s.connect({ token: ctx.clientToken }))) return undefined;
  const created = await s.request('job:create', {
    program: 'function Run(x) { return x }',
    name: 'flood-target',
    priority: 10,
  });
  const jobId = (created?.data as { id?: string } | undefined)?.id;
  if (!jobId) return undefined;
  const helper = await openHostile({
    url: ctx.wsUrl,
    family: 'sio-subscribe-flood',
    tally: ctx.tally,
    programs: ctx.programs,
  });
  if (helper) {
    helper.onTasks((tasks) => {
      helper.forget(tasks);
      void helper.send(
        `{"type":"outcomes","credit":${tasks.length},"items":[${tasks.map((t) => helper.honestItem(t, 1)).join(',')}]}`,
      );
    });
    await helper.hello(64, 2_000);
  }
  for (let i = 0; i < FLOOD_RESULTS; i += 1_000) {
    const tasks = Array.from({ length: 1_000 }, (_, k) => `result ${i + k} ${'r'.repeat(40)}`);
    await s.request('job:submit', { jobId, batchId: `flood-${i}`, tasks });
  }
  await s.request('job:close', { jobId });
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    const info = (await s.request('job:get', { jobId }))?.data as { state?: string } | undefined;
    if (info?.state === 'done') break;
    await sleep(200);
  }
  await helper?.close();
  await s.close();
  return jobId;
}

const sioSubscribeFlood: AttackFamily = {
  name: 'sio-subscribe-flood',
  target: 'sdk',
  about:
    'thousands of job:subscribe from one socket that then stops reading; pushes acked many times over (#11 item 9)',
  async run(ctx) {
    const jobId = await floodTarget(ctx);
    if (!jobId) throw new Error('could not make the flood target job');
    await lanes(2, async (lane) => {
      const s = await sio(ctx, 'sio-subscribe-flood');
      if (!s || !(await s.connect({ token: ctx.clientToken }))) return;
      // One socket never acks a push; the other acks each five times, 5,000 acks in all.
      s.ackPushes = lane === 0 ? 0 : 5;
      s.ackBudget = 5_000;
      for (let i = 0; i < 3_000 && s.isOpen; i++) {
        await s.send(
          `42${i + 1}${JSON.stringify(['job:subscribe', { jobId, subscriptionId: `flood-${i}`, kind: 'all', from: 0 }])}`,
        );
      }
      // Someone else's job too: refused, never streamed.
      for (let i = 0; i < 100 && s.isOpen; i++) {
        await s.send(
          `42${9_000 + i}${JSON.stringify(['job:subscribe', { jobId: ctx.jobs.honest, subscriptionId: `peek-${i}`, kind: 'all', from: 0 }])}`,
        );
      }
      if (lane === 0) s.stopReading();
      await sleep(8_000);
      await s.close();
    });
  },
};

const sioDashboardPeek: AttackFamily = {
  name: 'sio-dashboard-peek',
  target: 'sdk',
  about: "a client key's dashboard feed, read for other tenants' job ids (#11 item 8)",
  async run(ctx) {
    const s = await sio(ctx, 'sio-dashboard-peek');
    if (!s || !(await s.connect({ token: ctx.clientToken }))) throw new Error('could not connect');
    s.keepEvents = 100;
    const history = await s.request('dashboard:subscribe', {});
    await sleep(3_500);
    await s.close();
    const seen = [JSON.stringify(history ?? null), ...s.events];
    const others = [ctx.jobs.honest, ctx.jobs.quorum];
    const leaks = seen.filter((text) => others.some((id) => text.includes(id))).length;
    return [
      {
        what: "a client key's dashboard feed names no other tenant's job",
        ok: leaks === 0,
        detail: `${leaks} of ${seen.length} messages (history and dashboard:stats pushes) carried the admin's job ids`,
      },
    ];
  },
};

export const SDK_FAMILIES: readonly AttackFamily[] = [
  sioDashboardPeek,
  sioGarbage,
  sioBadTokens,
  sioEventsAs('admin'),
  sioEventsAs('client'),
  sioSubscribeFlood,
  sioPlaceholder,
];

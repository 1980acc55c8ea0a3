/**
 * Attack families of workers that speak the protocol but lie: numbers out of range, outcomes
 * forged for others' tasks, a colluding quorum, hoarding (issue #11 names the item each probes).
 */
import { lanes, sleep, type AttackFamily } from './attack.js';
import { int, pick } from './malformed-frames.js';
import { EMPTY_OUTCOMES, answer, openAttacker, outcomes } from './worker-attack-kit.js';

export const bounds: AttackFamily = {
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
        const w = await openAttacker(ctx, 'bounds', `127.0.1.${lane + 1}`);
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
        const probe = await openAttacker(ctx, 'bounds');
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

export const forge: AttackFamily = {
  name: 'forge',
  target: 'worker',
  about:
    'outcomes for tasks leased to others (job ids learned from real tasks): wrong values, timeouts, errors (#11 item 2)',
  async run(ctx, rng) {
    // The scout takes real tasks to learn job ids and index ranges, and hands them back.
    const scout = await openAttacker(ctx, 'forge', '127.0.2.1');
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
        const w = await openAttacker(ctx, 'forge', `127.0.2.${lane + 2}`);
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

export const quorumPair: AttackFamily = {
  name: 'quorum-pair',
  target: 'worker',
  about:
    'two sockets from one address agree on a lie about a redundancy-2 job, reconnecting to shed strikes (#11 item 6)',
  async run(ctx) {
    const end = Date.now() + 12_000;
    await lanes(2, async () => {
      while (Date.now() < end) {
        const w = await openAttacker(ctx, 'quorum-pair', '127.0.0.66');
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

export const hoard: AttackFamily = {
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
        const w = await openAttacker(ctx, 'hoard', `127.0.3.${lane + 1}`);
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
    // On a slow machine the honest job may be (nearly) done before hoarding starts: then 20
    // outcomes cannot be asked for, only what was left.
    const wanted = Math.min(20, ctx.honestTotal - settledBefore);
    return [
      {
        what: `no task of the honest job sat with a hoarder for ${stuckAfterMs} ms`,
        ok: stuck === 0,
        detail: `${stuck} tasks of the honest job held by hoarders for over ${stuckAfterMs} ms, unsettled`,
      },
      {
        what: 'honest workers kept finishing the honest job while hoarders sat on the grid',
        ok: byOthers >= wanted,
        detail: `${byOthers} outcomes of the honest job settled by others during ${durationMs} ms of hoarding (wanted ${wanted}: ${ctx.honestTotal - settledBefore} were unsettled when it began)`,
      },
    ];
  },
};

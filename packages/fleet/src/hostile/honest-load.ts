/**
 * The honest side of the fuzz run: three jobs fed with tasks while the attack goes on, run by
 * a small honest fleet whose workers each look like their own host. `honest` (redundancy 1)
 * and `quorum` (redundancy 2) belong to the admin and are checked value by value at the end;
 * `bait` belongs to a client key and is where attackers put their poison.
 */
import type { TaskOutcome } from '@tabgrid/sdk';
import { Tabgrid, type Job } from '@tabgrid/sdk';
import { Fleet } from '../fleet.js';
import { exactlyOnceReport, type SeenOutcome } from '@tabgrid/server/testing';
import { sleep } from './attack.js';

/** Tasks of the `honest` job, fed at 20 per batch while the attack goes on. */
export const HONEST_TASKS = 2_000;

export interface JobCheck {
  name: string;
  total: number;
  received: number;
  duplicates: number[];
  missing: number[];
  wrong: number[];
  errors: { index: number; type: string; message: string }[];
  /** `job.status()` at the end, or the error it threw. */
  state: string;
  /** Anything that went wrong reading the job (a stream that threw, a timeout). */
  problem: string | undefined;
}

interface FedJob {
  name: string;
  job: Job;
  total: number;
  expected?: (index: number) => unknown;
  outcomes: SeenOutcome[];
  /** Indexes settled so far. */
  seen: Set<number>;
  done: Promise<void>;
  problem: string | undefined;
}

/**
 * Yields `total` inputs (0, 1, …): `perTick` every `tickMs` while `pacing()`, then the rest at
 * once (or nothing more, with `stopWithPacing`).
 */
async function* paced(
  total: number,
  perTick: number,
  tickMs: number,
  pacing: () => boolean,
  stopWithPacing: boolean,
): AsyncGenerator<number> {
  let i = 0;
  while (i < total) {
    if (stopWithPacing && !pacing()) return;
    const end = pacing() ? Math.min(total, i + perTick) : total;
    for (; i < end; i++) yield i;
    if (i < total && pacing()) await sleep(tickMs);
  }
}

export class HonestLoad {
  readonly fleet: Fleet;
  private pacing = true;
  private readonly jobs: FedJob[] = [];

  private constructor(
    readonly admin: Tabgrid,
    readonly client: Tabgrid,
    /** Secret of the client key the bait job belongs to. */
    readonly clientToken: string,
    wsUrl: string,
  ) {
    this.fleet = new Fleet({
      url: wsUrl,
      workers: 4,
      threads: 2,
      // Tab-like task times and little credit. The bait job (priority -1) is fed faster than
      // this fleet can run it, so the fleet is always busy, as a real grid is: a new task of the
      // checked jobs goes to whoever has credit at that moment, attackers included.
      credit: 4,
      behavior: { delayMs: [20, 60] },
      seed: 11,
      localAddress: (index) => `127.0.9.${index + 1}`,
    });
  }

  /** Makes a client key, the three jobs and the fleet, and starts feeding the jobs. */
  static async start(url: string, wsUrl: string, adminToken: string): Promise<HonestLoad> {
    const created = await fetch(`${url}/api/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'fuzz-tenant', role: 'client' }),
    });
    if (created.status !== 201)
      throw new Error(`POST /api/keys answered ${created.status}: ${await created.text()}`);
    const { secret } = (await created.json()) as { secret: string };
    const admin = new Tabgrid({ url, token: adminToken, timeoutMs: 60_000 });
    const client = new Tabgrid({ url, token: secret, timeoutMs: 60_000 });
    const load = new HonestLoad(admin, client, secret, wsUrl);
    await load.fleet.start();
    const options = { timeoutMs: 2_000, maxAttempts: 100 };
    load.feed(
      'honest',
      await admin.createJob({
        program: 'function Run(x) { return x * 2 }',
        name: 'fuzz-honest',
        ...options,
      }),
      HONEST_TASKS,
      20,
      (i) => i * 2,
    );
    load.feed(
      'quorum',
      await admin.createJob({
        program: 'function Run(x) { return x * 3 }',
        name: 'fuzz-quorum',
        redundancy: 2,
        maxReplicas: 8,
        ...options,
      }),
      600,
      6,
      (i) => i * 3,
    );
    load.feed(
      'bait',
      await client.createJob({
        program: 'function Run(x) { return x * 2 }',
        name: 'fuzz-bait',
        priority: -1,
        ...options,
      }),
      40_000,
      150,
    );
    return load;
  }

  jobId(name: 'honest' | 'quorum' | 'bait'): string {
    const fed = this.jobs.find((j) => j.name === name);
    if (!fed) throw new Error(`no job ${name}`);
    return fed.job.id;
  }

  private feed(
    name: string,
    job: Job,
    total: number,
    perTick: number,
    expected?: (i: number) => unknown,
  ): void {
    const fed: FedJob = {
      name,
      job,
      total,
      outcomes: [],
      seen: new Set(),
      problem: undefined,
      done: Promise.resolve(),
      ...(expected ? { expected } : {}),
    };
    fed.done = (async () => {
      try {
        for await (const o of job.run(
          paced(total, perTick, 500, () => this.pacing, !expected),
        ) as AsyncIterable<TaskOutcome>) {
          fed.seen.add(o.index);
          fed.outcomes.push(
            o.ok
              ? { index: o.index, ok: true, value: o.value }
              : {
                  index: o.index,
                  ok: false,
                  error: { type: o.error.type, message: o.error.message },
                },
          );
        }
      } catch (err) {
        fed.problem = `its stream threw: ${String(err)}`;
      }
    })();
    this.jobs.push(fed);
  }

  /** Outcomes of the `honest` job received so far. */
  settled(name: 'honest' | 'quorum'): number {
    return this.jobs.find((j) => j.name === name)?.outcomes.length ?? 0;
  }

  /** True once task `index` of a checked job has settled. */
  isSettled(name: 'honest' | 'quorum', index: number): boolean {
    return this.jobs.find((j) => j.name === name)?.seen.has(index) ?? false;
  }

  /** The attack is over: submit what is left at once. */
  stopPacing(): void {
    this.pacing = false;
  }

  /** Waits (up to `ms`) for the checked jobs to finish, then checks every value of each. */
  async check(ms: number): Promise<JobCheck[]> {
    const checked = this.jobs.filter((j) => j.expected);
    const deadline = sleep(ms).then(() => 'timeout' as const);
    const checks: JobCheck[] = [];
    for (const fed of checked) {
      const finished = await Promise.race([fed.done.then(() => 'done' as const), deadline]);
      if (finished === 'timeout')
        fed.problem ??= `not finished within ${ms} ms of the attack's end`;
      const c = exactlyOnceReport(fed.total, fed.outcomes, fed.expected);
      let state: string;
      try {
        state = (await fed.job.status()).state;
      } catch (err) {
        state = `status() threw: ${String(err)}`;
      }
      checks.push({
        name: fed.name,
        total: fed.total,
        received: fed.outcomes.length,
        ...c,
        state,
        problem: fed.problem,
      });
    }
    return checks;
  }

  /** `tg.jobs()` for the admin and the client, and the bait job's status: each must decode. */
  async listings(): Promise<string[]> {
    const problems: string[] = [];
    for (const [who, tg] of [
      ['admin', this.admin],
      ['client', this.client],
    ] as const) {
      try {
        await tg.jobs();
      } catch (err) {
        problems.push(`${who} tg.jobs() threw: ${String(err)}`);
      }
    }
    try {
      await this.jobs.find((j) => j.name === 'bait')?.job.status();
    } catch (err) {
      problems.push(`bait job.status() threw: ${String(err)}`);
    }
    return problems;
  }

  async stop(): Promise<void> {
    this.pacing = false;
    await this.fleet.stop();
    await Promise.allSettled([this.admin.close(), this.client.close()]);
  }
}

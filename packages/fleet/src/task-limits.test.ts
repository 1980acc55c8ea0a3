/**
 * Each limit of the task model (issue 13, plan-13 §8 "each limit"): a job whose tasks log a
 * million lines, emit a million events, collect 100 MB, call progress() in a tight loop, or have
 * a Setup that never returns. For each: the cap is hit and reported (JobInfo, a synthetic
 * "dropped" line); the server is unharmed: its RSS grows < 64 MB (plus 32 MB per lying
 * connection: one frame at the cap and its decoding) and its event-loop delay p99 stays
 * < 100 ms; and a plain 1,000-task job running at the same time finishes within twice its solo
 * time. Twice per limit where a page could lie: honest simulated threads (their per-task caps,
 * collect's error thrown inside Run) and hostile ones (`reportLies`: the page's caps skipped, so
 * the server's per-connection budget and per-job caps are what hold; `hangJobs`: Setup's
 * timeout skipped, so the server's lease expiry is what holds).
 *
 * Three processes: the server (the built dist/main.js, pinned alone to core 0), the limit job's
 * fleet (a child), and this one with the plain job's fleet. So the server's RSS and event loop
 * are its own, and a flood built by the limit fleet slows the plain job only through what the
 * server must do with it. Takes a minute or two and measures the machine as well as the server:
 * `npm run test:limits` runs it. Each case logs its figures (RSS growth, loop p99, the plain
 * job's time, and the solo baselines), and how late the plain job's last task was dispatched to
 * the worker that ran it: the server also offers the plain job to the limit fleet's workers,
 * which hand it back (`onlyJobs`) only once their event loop is free, and a simulated thread's
 * Run holds that loop (a hostile tight loop: a second or more). Seconds there, with the server's
 * CPU low, are that wait, not the server's work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_LIMITS, seriesTaskLimitMessage } from '@tabgrid/protocol/task-reports';
import type { JobInfo } from '@tabgrid/protocol/jobs';
import { WORKER_LIMITS } from '@tabgrid/protocol/worker';
import { Tabgrid } from '@tabgrid/sdk';
import { startServerProcess, type ServerProcess } from '@tabgrid/server/testing';
import type { ReportLies } from './behavior.js';
import { Fleet } from './fleet.js';
import { rssMb } from './hostile/vital-signs.js';
import { pinToCpu, startFleetProcess, type FleetProcess } from './testing/fleet-process.js';

/** The per-job series cap of this file's server: small, so that 100 MB of collect reaches it. */
const MAX_SERIES_BYTES_PER_JOB = 8 * 1024 * 1024;
/** What the server's RSS may grow by under honest workers, whatever they send. */
const RSS_GROWTH_LIMIT_MB = 64;
/**
 * And per lying connection: a hostile page may send every frame at the frame cap, and the
 * server holds one frame per connection in flight with its decoding (about twice its size).
 * A flood ten times longer costs no more: what it sends beyond is dropped unread or cut.
 */
const RSS_PER_LYING_CONNECTION_MB = (2 * WORKER_LIMITS.maxFrameBytes) / 2 ** 20;
const LIMIT_FLEET_WORKERS = 3;
const LOOP_P99_LIMIT_MS = 100;
const PLAIN_TASKS = 1_000;

let server: ServerProcess;
let tg: Tabgrid;
/** Honest workers in this process: they run the plain job only, while it runs. */
let fleet: Fleet;
/**
 * Workers in a child process: they run the limit job only, and lie when a case says so. The
 * server has core 0 to itself; this process and the child share core 1, so that building a flood
 * slows the server only by what the server itself must do with it.
 */
let limitFleet: FleetProcess;
/** Whether the server has core 0 to itself. */
let pinned = false;
/** The plain job's time alone (ms), measured once; at least 1 s so that noise does not rule. */
let soloMs = 0;
/** The server's event-loop delay p99 while the plain job ran alone: what this machine gives. */
let soloP99 = 0;

async function healthz(reset = false): Promise<{ eventLoopDelayMs: { p99: number } }> {
  const response = await fetch(`${server.url}/healthz${reset ? '?reset' : ''}`);
  return (await response.json()) as { eventLoopDelayMs: { p99: number } };
}

/** The plain job's time, and how late its last task was handed to the worker that ran it. */
interface PlainRun {
  ms: number;
  /** Longest time from a task's submission to the dispatch that settled it (provenance). */
  maxQueuedMs: number;
}

/** The plain job, run by this process's fleet only. */
async function plainJob(only = true): Promise<PlainRun> {
  const started = performance.now();
  const job = await tg.createJob({ program: 'function Run(d) { return d * 2 }', name: 'plain' });
  if (only) for (const worker of fleet.workers) worker.behave({ onlyJobs: [job.id] });
  try {
    const inputs = Array.from({ length: PLAIN_TASKS }, (_, i) => i);
    let maxQueuedMs = 0;
    let right = 0;
    for await (const o of job.run(inputs, { provenance: true })) {
      if (o.ok && o.value === 2 * o.index) right++;
      maxQueuedMs = Math.max(maxQueuedMs, o.provenance?.queuedMs ?? 0);
    }
    expect(right).toBe(PLAIN_TASKS);
    return { ms: performance.now() - started, maxQueuedMs };
  } finally {
    // Then they help with the limit job rather than hand its tasks back forever.
    for (const worker of fleet.workers) worker.behave({ onlyJobs: undefined });
  }
}

interface Lines {
  seq: number;
  index: number | null;
  level: string;
  message: string;
  count: number;
}

async function logsOf(jobId: string): Promise<Lines[]> {
  const lines: Lines[] = [];
  for (let from = 0; ;) {
    const response = await fetch(`${server.url}/api/jobs/${jobId}/logs?from=${from}`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    const page = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Lines);
    if (page.length === 0) return lines;
    lines.push(...page);
    from = page[page.length - 1]!.seq;
  }
}

interface Under {
  info: JobInfo;
  jobId: string;
  values: unknown[];
  rssGrowthMb: number;
  /** What the RSS may grow by in this case: more where connections lie about their frames. */
  rssAllowanceMb: number;
  p99: number;
  plainMs: number;
  /** See {@link PlainRun}: seconds here mean its tasks sat on a busy worker (see below). */
  plainMaxQueuedMs: number;
}

/**
 * Runs `program` over `tasks` while a plain job runs beside it, with the limit fleet lying as `lies`
 * says ('hang': holding this job's tasks forever), and measures the server meanwhile.
 */
async function underLimit(
  program: string,
  tasks: unknown[],
  lies: ReportLies | 'hang' | undefined,
  options: Record<string, unknown> = {},
): Promise<Under> {
  const baseRss = rssMb(server.pid) ?? 0;
  let peakRss = baseRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(server.pid) ?? 0);
  }, 100);
  await healthz(true);
  try {
    const job = await tg.createJob({ program, name: 'limit', ...options });
    await limitFleet.behave(
      lies === 'hang'
        ? // A page that holds this job's tasks while it works on the plain job's; closed by
          // the server as hung once the plain job is done, it stays away.
          { onlyJobs: undefined, hangJobs: [job.id], reconnectAfterMs: false }
        : { onlyJobs: [job.id], reportLies: lies ?? {} },
    );
    const [outcomes, plain] = await Promise.all([
      (async () => {
        const values: unknown[] = [];
        for await (const o of job.run(tasks)) values.push(o.ok ? o.value : o.error);
        return values;
      })(),
      // Where the limit fleet holds tasks forever, honest workers must be free to take them.
      plainJob(lies !== 'hang'),
    ]);
    const { p99 } = (await healthz()).eventLoopDelayMs;
    return {
      info: await job.status(),
      jobId: job.id,
      values: outcomes,
      rssGrowthMb: peakRss - baseRss,
      rssAllowanceMb:
        RSS_GROWTH_LIMIT_MB +
        (lies === undefined ? 0 : LIMIT_FLEET_WORKERS * RSS_PER_LYING_CONNECTION_MB),
      p99,
      plainMs: plain.ms,
      plainMaxQueuedMs: plain.maxQueuedMs,
    };
  } finally {
    clearInterval(sampler);
    await limitFleet.behave({ onlyJobs: [], reportLies: {}, hangJobs: [] });
  }
}

/** The server held: memory, event loop, the other job on time. */
function expectUnharmed(run: Under): void {
  console.log(
    `rss +${run.rssGrowthMb.toFixed(1)} MB (allowed ${run.rssAllowanceMb}), loop p99 ${run.p99} ms (solo ${soloP99}), plain job ${Math.round(run.plainMs)} ms (solo ${Math.round(soloMs)}; its latest dispatch ${Math.round(run.plainMaxQueuedMs)} ms after submission)`,
  );
  expect(run.rssGrowthMb).toBeLessThan(run.rssAllowanceMb);
  expect(run.p99).toBeLessThan(LOOP_P99_LIMIT_MS);
  expect(run.plainMs).toBeLessThan(2 * soloMs);
}

beforeAll(async () => {
  process.env.TABGRID_MAX_SERIES_BYTES_PER_JOB = String(MAX_SERIES_BYTES_PER_JOB);
  // TABGRID_LIMITS_CPU_PROF=<dir>: the server child writes a V8 CPU profile there on exit.
  const profDir = process.env.TABGRID_LIMITS_CPU_PROF;
  server = await startServerProcess({
    nodeArgs: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
  });
  delete process.env.TABGRID_MAX_SERIES_BYTES_PER_JOB;
  tg = new Tabgrid({ url: server.url, token: server.adminToken });
  fleet = new Fleet({ url: server.wsUrl, workers: 3, threads: 2, credit: 32, sampleMs: 0 });
  await fleet.start();
  limitFleet = await startFleetProcess({
    url: server.wsUrl,
    workers: LIMIT_FLEET_WORKERS,
    threads: 2,
    credit: 8,
    sampleMs: 0,
    behavior: { onlyJobs: [] },
  });
  pinned = pinToCpu(server.pid, 0) && pinToCpu(process.pid, 1) && pinToCpu(limitFleet.pid, 1);
  await plainJob(); // warm up
  await healthz(true);
  soloMs = Math.max(1_000, (await plainJob()).ms);
  soloP99 = (await healthz()).eventLoopDelayMs.p99;
  console.log(
    `solo plain job: ${Math.round(soloMs)} ms, server loop p99 ${soloP99} ms (${pinned ? 'the server alone on core 0' : 'not pinned'})`,
  );
}, 60_000);

afterAll(async () => {
  await limitFleet?.stop();
  await fleet?.stop();
  await tg?.close();
  await server?.stop();
}, 30_000);

describe('a million console lines', () => {
  it('honest threads: 1,000 lines per task kept, the rest counted, one synthetic line', async () => {
    const run = await underLimit(
      "function Run(d) { for (let i = 0; i < 1e6; i++) console.log('line', i); return d }",
      [0],
      undefined,
    );
    expect(run.values).toEqual([0]);
    expect(run.info.logs?.dropped).toBe(1e6 - TASK_LIMITS.maxLogsPerTask);
    const lines = await logsOf(run.jobId);
    expect(lines).toHaveLength(TASK_LIMITS.maxLogsPerTask + 1);
    expect(lines.at(-1)?.message).toBe('999,000 lines dropped (limit 1,000 per task)');
    expectUnharmed(run);
  }, 120_000);

  it('hostile threads: the server keeps at most its per-job cap and counts the rest', async () => {
    const run = await underLimit(
      "function Run(d) { for (let i = 0; i < 1e4; i++) console.log('line', d, i); return d }",
      Array.from({ length: 100 }, (_, i) => i),
      { floodLogs: true },
    );
    expect(run.values).toHaveLength(100);
    const { lines, dropped } = run.info.logs!;
    const told = await logsOf(run.jobId);
    // Past the cap: the server's cap line, and its line about unread reports if it had to.
    expect(lines).toBeLessThanOrEqual(TASK_LIMITS.maxLogsPerJob + 2);
    // Either every line was read (kept or counted), or the server said it read only some.
    const unread = told.some((l) => /dropped unread/.test(l.message));
    if (!unread) expect(lines + dropped).toBeGreaterThanOrEqual(1e6);
    expect(told.some((l) => /dropped/.test(l.message))).toBe(true);
    expectUnharmed(run);
  }, 180_000);
});

describe('a million events', () => {
  it('honest threads: 1,000 per task, the rest counted and told in a line', async () => {
    const run = await underLimit(
      "function Run(d) { for (let i = 0; i < 1e6; i++) tabgrid.emit('tick', i); return d }",
      [0],
      undefined,
    );
    expect(run.info.events).toEqual({
      count: TASK_LIMITS.maxEventsPerTask,
      dropped: 1e6 - TASK_LIMITS.maxEventsPerTask,
    });
    const lines = await logsOf(run.jobId);
    expect(lines.map((l) => l.message)).toContain('999,000 events dropped (limit 1,000 per task)');
    expectUnharmed(run);
  }, 120_000);

  it('hostile threads: at most the per-job cap stored', async () => {
    const run = await underLimit(
      "function Run(d) { for (let i = 0; i < 1e4; i++) tabgrid.emit('tick', i); return d }",
      Array.from({ length: 100 }, (_, i) => i),
      { floodLogs: true },
    );
    const { count, dropped } = run.info.events!;
    expect(count).toBeLessThanOrEqual(TASK_LIMITS.maxEventsPerJob);
    const unread = (await logsOf(run.jobId)).some((l) => /dropped unread/.test(l.message));
    if (!unread) expect(count + dropped).toBeGreaterThanOrEqual(1e6);
    expectUnharmed(run);
  }, 180_000);
});

describe('collecting 100 MB', () => {
  const collect100MB = `function Run(d) {
    const chunk = 'x'.repeat(100000);
    try { for (let i = 0; i < 1000; i++) tabgrid.collect('big', chunk) } catch (e) { return e.message }
    return 'collected it all';
  }`;

  it('honest threads: collect throws inside Run at 1 MB per task; the job stops at its cap', async () => {
    const run = await underLimit(
      collect100MB,
      Array.from({ length: 20 }, (_, i) => i),
      undefined,
    );
    expect(run.values.length).toBe(20);
    expect(run.values).toContain(seriesTaskLimitMessage());
    const { bytes, dropped } = run.info.series!;
    expect(bytes).toBeLessThanOrEqual(MAX_SERIES_BYTES_PER_JOB + TASK_LIMITS.maxSeriesBytesPerTask);
    expect(dropped).toBeGreaterThan(0);
    expectUnharmed(run);
  }, 120_000);

  it('hostile threads: the server cuts each task to 1 MB and the job to its cap', async () => {
    const run = await underLimit(
      collect100MB,
      Array.from({ length: 20 }, (_, i) => i),
      { hugeSeries: true },
    );
    const { bytes, dropped } = run.info.series!;
    expect(bytes).toBeLessThanOrEqual(MAX_SERIES_BYTES_PER_JOB + TASK_LIMITS.maxSeriesBytesPerTask);
    expect(dropped).toBeGreaterThan(0);
    expectUnharmed(run);
  }, 120_000);
});

describe('progress() in a tight loop', () => {
  it('honest threads: coalesced to a few reports', async () => {
    const run = await underLimit(
      'function Run(d) { for (let i = 0; i < 1e6; i++) tabgrid.progress(i / 1e6); return d }',
      Array.from({ length: 6 }, (_, i) => i),
      undefined,
    );
    expect(run.values).toHaveLength(6);
    expectUnharmed(run);
  }, 120_000);

  it('hostile threads: every call sent, the server takes it in its stride', async () => {
    const run = await underLimit(
      'function Run(d) { for (let i = 0; i < 2e5; i++) tabgrid.progress(i / 2e5); return d }',
      Array.from({ length: 6 }, (_, i) => i),
      { progressSpam: true },
    );
    expect(run.values).toHaveLength(6);
    expectUnharmed(run);
  }, 180_000);
});

describe('a Setup that never returns', () => {
  it('is timed out on every try; each task settles as a setup error', async () => {
    const run = await underLimit(
      'async function Setup() { await new Promise(() => {}) } function Run(d) { return d }',
      Array.from({ length: 4 }, (_, i) => i),
      undefined,
      { setupTimeoutMs: 500, maxAttempts: 2 },
    );
    expect(run.values).toHaveLength(4);
    for (const error of run.values) {
      expect(error).toMatchObject({
        type: 'setup',
        message: 'Setup did not finish within setupTimeoutMs (500 ms)',
      });
    }
    expect(run.info.setups?.count).toBeGreaterThanOrEqual(1);
    expectUnharmed(run);
  }, 120_000);

  it('hostile threads that skip setupTimeoutMs: the server takes the held tasks back; they settle elsewhere', async () => {
    const run = await underLimit(
      'async function Setup() { await new Promise(() => {}) } function Run(d) { return d }',
      Array.from({ length: 40 }, (_, i) => i),
      'hang',
      { setupTimeoutMs: 500, timeoutMs: 1_000, maxAttempts: 2 },
    );
    expect(run.values).toHaveLength(40);
    // Held by a liar until its lease expired, then timed out in Setup on honest threads.
    for (const error of run.values) expect(error).toMatchObject({ type: expect.any(String) });
    expect(run.values.some((e) => (e as { type: string }).type === 'setup')).toBe(true);
    expectUnharmed(run);
  }, 120_000);
});

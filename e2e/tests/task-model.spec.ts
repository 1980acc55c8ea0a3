/**
 * Issue #13's task model in real Chromium tabs against a real server: Setup and Teardown,
 * progress, console lines (collapsed, with counts), events, collected series (through a
 * SIGKILL of the server), messages to running tasks, a Setup that never returns, and a
 * message to a finished job.
 */
import { expect, test } from '@playwright/test';
import { Tabgrid, type TaskOutcome } from '@tabgrid/sdk';
import { gridPerTest, startGrid } from '../support/grid.js';

const grid = gridPerTest();

/** Every NDJSON line of a REST feed of `jobId` (`logs`, `events`, `series/loss`). */
async function restFeed(url: string, token: string, path: string): Promise<unknown[]> {
  const response = await fetch(`${url}/api/jobs/${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}

interface Line {
  index: number | null;
  level: string;
  message: string;
  count: number;
  workerId: string;
  at: string;
}

const PROGRAM = `let base;
function Setup(args) {
  console.log('setup');
  tabgrid.emit('setup', { k: args.k });
  base = args.k;
}
async function Run(d) {
  for (let i = 0; i < 50; i++) console.log('tick');
  tabgrid.emit('task', { d });
  tabgrid.collect('loss', 1 / (d + 1));
  tabgrid.collect('loss', d);
  for (let i = 1; i <= 4; i++) {
    tabgrid.progress(i / 4);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return d + base;
}
function Teardown() { console.log('teardown'); }`;

test('Setup once per thread, progress, collapsed logs, events and series reach the SDK; Teardown after done', async () => {
  await grid.openTab('?threads=2');
  const job = await grid.tg.createJob({ program: PROGRAM, args: { k: 100 }, name: 'task-model' });
  const inputs = Array.from({ length: 6 }, (_, i) => i);

  const fractions: number[] = [];
  const progress = (async () => {
    for await (const p of job.progress()) {
      if (p.fraction !== undefined) fractions.push(p.fraction);
    }
  })();
  const logs: Line[] = [];
  const logsDone = (async () => {
    for await (const line of job.logs()) logs.push(line);
  })();
  const events: { index: number | null; name: string; data: unknown }[] = [];
  const eventsDone = (async () => {
    for await (const e of job.events()) events.push(e);
  })();

  const outcomes: TaskOutcome[] = [];
  for await (const outcome of job.run(inputs)) outcomes.push(outcome);
  expect(outcomes.map((o) => (o.ok ? o.value : o.error.message)).sort()).toEqual(
    inputs.map((d) => d + 100),
  );
  await Promise.all([progress, logsDone, eventsDone]);

  // Setup ran once per thread that ran the job's tasks (the tab has two): counted, and each
  // run left its line and its event.
  const info = await job.status();
  expect(info.state).toBe('done');
  expect(info.setups!.count).toBeGreaterThanOrEqual(1);
  expect(info.setups!.count).toBeLessThanOrEqual(2);
  const setupLines = logs.filter((l) => l.message === 'setup');
  expect(setupLines.every((l) => l.index === null)).toBe(true);
  expect(setupLines.reduce((n, l) => n + l.count, 0)).toBe(info.setups!.count);
  expect(events.filter((e) => e.name === 'setup')).toHaveLength(info.setups!.count);

  // Each task's 50 identical lines arrive as one line with count 50.
  const ticks = logs.filter((l) => l.message === 'tick');
  expect(ticks.map((l) => l.index).sort()).toEqual(inputs);
  expect(ticks.every((l) => l.count === 50 && l.level === 'log')).toBe(true);
  expect(typeof ticks[0]!.workerId).toBe('string');
  expect(Number.isNaN(Date.parse(ticks[0]!.at))).toBe(false);

  expect(
    events
      .filter((e) => e.name === 'task')
      .map((e) => e.index)
      .sort(),
  ).toEqual(inputs);
  expect(fractions.length).toBeGreaterThan(0);
  expect(fractions.every((f) => f > 0 && f <= 1)).toBe(true);

  const series = [];
  for await (const item of job.series('loss')) series.push(item);
  expect(series.map((s) => s.index).sort()).toEqual(inputs);
  for (const s of series) expect(s.values).toEqual([1 / (s.index + 1), s.index]);
  expect(await job.seriesLabels()).toEqual(['loss']);

  // Teardown ran when the job ended: its lines are stored (read after the feeds' grace).
  await expect
    .poll(
      async () => {
        const lines = (await restFeed(grid.url, grid.token, `${job.id}/logs`)) as Line[];
        return lines.filter((l) => l.message === 'teardown').reduce((n, l) => n + l.count, 0);
      },
      { timeout: 20_000 },
    )
    .toBe(info.setups!.count);
});

test('series survive a SIGKILL of the server and a restart on the same data dir', async ({
  browser,
}) => {
  const crashGrid = await startGrid(browser, { process: true });
  try {
    await crashGrid.openTab('?threads=2');
    const job = await crashGrid.tg.createJob({
      program: `function Run(d) { for (let i = 0; i < 3; i++) tabgrid.collect('loss', d * 10 + i); return d; }`,
      name: 'durable-series',
    });
    const inputs = Array.from({ length: 40 }, (_, i) => i);
    const outcomes: TaskOutcome[] = [];
    for await (const outcome of job.run(inputs)) outcomes.push(outcome);
    expect(outcomes).toHaveLength(40);

    await crashGrid.restart({ kill: 'SIGKILL' });
    const tg = new Tabgrid({ url: crashGrid.url, token: crashGrid.token });
    try {
      const again = tg.job(job.id);
      expect(await again.seriesLabels()).toEqual(['loss']);
      const series = [];
      for await (const item of again.series('loss')) series.push(item);
      expect(series.map((s) => s.index).sort((a, b) => a - b)).toEqual(inputs);
      for (const s of series) expect(s.values).toEqual([0, 1, 2].map((i) => s.index * 10 + i));
      expect(await tg.latestJob('durable-series')).toMatchObject({ id: job.id });
    } finally {
      await tg.close();
    }
  } finally {
    await crashGrid.stop();
  }
});

test('a task awaiting tabgrid.next() finishes once job.tell() sends the message', async () => {
  await grid.openTab();
  const job = await grid.tg.createJob({
    program: `async function Run(d) { tabgrid.progress(0); const m = await tabgrid.next(); return m.go + d; }`,
    name: 'waits-for-tell',
  });
  const outcomes: TaskOutcome[] = [];
  const running = (async () => {
    for await (const outcome of job.run([41])) outcomes.push(outcome);
  })();
  // The task is running (it said so) before the message goes.
  for await (const p of job.progress()) {
    if (p.index === 0) break;
  }
  expect(outcomes).toHaveLength(0);
  expect(await job.tell({ go: 1 })).toEqual({ seq: 1 });
  await running;
  expect(outcomes).toMatchObject([{ index: 0, ok: true, value: 42 }]);
});

test('a Setup that never returns settles every task as `setup`; the tab keeps running other jobs', async () => {
  await grid.openTab('?threads=2');
  await grid.openTab('?threads=2');
  const stuck = await grid.tg.createJob({
    program: `function Setup() { return new Promise(() => {}); }\nfunction Run(d) { return d; }`,
    name: 'stuck-setup',
    setupTimeoutMs: 500,
    maxAttempts: 2,
  });
  const plain = await grid.tg.createJob({ program: (d: number) => d * 2, name: 'plain' });
  const stuckRun = (async () => {
    const got: TaskOutcome[] = [];
    for await (const outcome of stuck.run([1, 2, 3, 4])) got.push(outcome);
    return got;
  })();
  const plainRun = (async () => {
    const got: TaskOutcome[] = [];
    for await (const outcome of plain.run(Array.from({ length: 200 }, (_, i) => i))) {
      got.push(outcome);
    }
    return got;
  })();
  const [stuckOutcomes, plainOutcomes] = await Promise.all([stuckRun, plainRun]);
  expect(plainOutcomes).toHaveLength(200);
  expect(plainOutcomes.every((o) => o.ok && o.value === o.index * 2)).toBe(true);
  expect(stuckOutcomes).toHaveLength(4);
  for (const outcome of stuckOutcomes) {
    expect(outcome).toMatchObject({
      ok: false,
      error: { type: 'setup', message: 'Setup did not finish within setupTimeoutMs (500 ms)' },
    });
  }
});

test('job.tell() to a finished job is refused with TG_ERR_JOB_FINISHED', async () => {
  await grid.openTab();
  const job = await grid.tg.createJob({ program: (d: number) => d, name: 'finished' });
  for await (const outcome of job.run([1])) expect(outcome.ok).toBe(true);
  await expect.poll(async () => (await job.status()).state).toBe('done');
  await expect(job.tell({ late: true })).rejects.toMatchObject({ code: 'TG_ERR_JOB_FINISHED' });
});

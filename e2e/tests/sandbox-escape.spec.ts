/**
 * Job code is hostile: the escape probes of support/sandbox-probes.ts, in real Chromium.
 *
 * 1. Through the real pipeline (SDK job → server → worker tab → the page's shipped runtime),
 *    every probe is stopped, and its message says by what.
 * 2. In the same tab, through the thread harness, the probes run against the runtime built
 *    with every protection (the same verdicts, and probes that need two chunks) and then
 *    against runtimes built without the protection each probe tests: the probe gets through
 *    (or is stopped by the next layer, named). A probe that passed either way would be no probe.
 * 3. A job's code cannot settle another job's task held by the same tab.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import {
  ALL_PROTECTIONS,
  threadSource,
  type Protections,
} from '@tabgrid/job-runtime/thread-source';
import { startGrid, type Grid } from '../support/grid.js';
import { PROBES, PROBE_PROGRAM, verdict, type Probe } from '../support/sandbox-probes.js';
import { runInThread } from '../support/thread-harness.js';

let grid: Grid;
let decoy: Server;
let decoyHits: string[] = [];
let decoyHost: string;

test.beforeEach(async ({ browser }) => {
  grid = await startGrid(browser);
  decoyHits = [];
  decoy = createServer((req, res) => {
    decoyHits.push(req.url ?? '');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.end('you should never see this');
  });
  decoy.on('connection', () => decoyHits.push('(connection)'));
  await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', resolve));
  decoyHost = `127.0.0.1:${(decoy.address() as AddressInfo).port}`;
});
test.afterEach(async () => {
  await grid.stop();
  decoy.closeAllConnections();
  await new Promise((resolve) => decoy.close(resolve));
});

/**
 * A worker tab whose context may reach loopback hosts: without this, Chromium's Local Network
 * Access checks alone would keep the decoy dark, and the network probes would prove nothing.
 */
async function openTab(query: string): Promise<Page> {
  const page = await grid.openTab(query);
  await page.context().grantPermissions(['local-network-access']);
  return page;
}

function probeArgs(extra: Record<string, unknown> = {}) {
  return {
    program: PROBE_PROGRAM,
    decoy: decoyHost,
    server: grid.url,
    victim: 'victim-job',
    ...extra,
  };
}

function weakened(off: readonly (keyof Protections)[]): string {
  const protections = { ...ALL_PROTECTIONS };
  for (const name of off) protections[name] = false;
  return threadSource(protections);
}

/** A probe's verdict in a harness thread: its install step, or its observe step after it. */
async function harnessVerdict(page: Page, source: string, probe: Probe): Promise<string> {
  const chunks = probe.observe ? [[probe.name], [probe.observe]] : [[probe.name]];
  const run = await runInThread(
    page,
    source,
    { jobId: 'probe-job', program: PROBE_PROGRAM, args: probeArgs() },
    chunks,
    probe.told ? [{ seq: 1, json: '{"probe":1}' }] : [],
  );
  const first = verdict(run.chunks[0]![0]!);
  if (!probe.observe || !first.startsWith('returned')) return first;
  return verdict(run.chunks[1]![0]!);
}

test('the shipped runtime stops every probe, for the right reason, in a real tab', async () => {
  const page = await openTab('?threads=1');
  const job = await grid.tg.createJob({ program: PROBE_PROGRAM, args: probeArgs() });
  const inputs = PROBES.flatMap((probe) =>
    probe.observe ? [probe.name, probe.observe] : [probe.name],
  );
  const verdicts = new Map<string, string>();
  for await (const out of job.run(inputs)) verdicts.set(inputs[out.index]!, verdict(out));
  for (const probe of PROBES) {
    const seen = verdicts.get(probe.name)!;
    // An install step that succeeds is judged by what its observer saw (in one chunk here;
    // the harness below splits them so that a page message comes in between).
    const judged =
      probe.observe && seen.startsWith('returned') ? verdicts.get(probe.observe)! : seen;
    expect(judged, probe.name).toMatch(probe.blocked);
  }
  await page.waitForTimeout(300);
  expect(decoyHits).toEqual([]);
  await expect(page.getByTestId('connection-state')).toHaveText('connected');
});

test('each probe catches its hole: it gets through a runtime built without its protection', async () => {
  const page = await openTab('?threads=1');
  const full = threadSource();
  for (const probe of PROBES) {
    expect(await harnessVerdict(page, full, probe), `${probe.name}, every protection`).toMatch(
      probe.blocked,
    );
    for (const { protections, verdict: expected } of probe.without ?? []) {
      const seen = await harnessVerdict(page, weakened(protections), probe);
      expect(seen, `${probe.name} without ${protections.join(' + ')}`).toMatch(expected);
      expect(seen, `${probe.name} without ${protections.join(' + ')}`).not.toMatch(probe.blocked);
    }
  }
  // Without the throwers, the page's policy still kept every request off the decoy.
  await page.waitForTimeout(300);
  expect(decoyHits).toEqual([]);
});

test('a weakened runtime hands job code its port: a forged outcome for another job is posted', async () => {
  const page = await openTab('?threads=1');
  const run = await runInThread(
    page,
    weakened(['strict', 'stackApi']),
    { jobId: 'attacker-job', program: PROBE_PROGRAM, args: probeArgs() },
    [['forge']],
  );
  const forged = run.messages.filter(
    (m) =>
      typeof (m as { outcomes?: unknown }).outcomes === 'string' &&
      (m as { outcomes: string }).outcomes.includes('"jobId":"victim-job"'),
  );
  expect(forged.length).toBe(50);
  // The shipped runtime gives no port, so nothing is posted but its own outcome.
  const safe = await runInThread(
    page,
    threadSource(),
    { jobId: 'attacker-job', program: PROBE_PROGRAM, args: probeArgs() },
    [['forge']],
  );
  expect(safe.messages.filter((m) => JSON.stringify(m).includes('victim-job'))).toEqual([]);
});

test("one job's code cannot settle another job's task running on the same tab", async () => {
  const page = await openTab('?threads=2');
  const victim = await grid.tg.createJob({
    program: `function Run(ms) { const end = Date.now() + ms; while (Date.now() < end); return 'honest'; }`,
  });
  const victimRun = (async () => {
    const outs = [];
    for await (const out of victim.run([3_000])) outs.push(out);
    return outs;
  })();
  // The victim's task is in flight on one thread when the attacker's program runs on the other.
  await expect(page.getByTestId('current-job')).toHaveText(victim.id);
  const attacker = await grid.tg.createJob({
    program: PROBE_PROGRAM,
    args: probeArgs({ victim: victim.id }),
  });
  const attack = [];
  for await (const out of attacker.run(['forge'])) attack.push(verdict(out));
  expect(attack).toEqual([
    expect.stringMatching(
      /^Error: no port: TypeError: Cannot assign to read only property 'prepareStackTrace'/,
    ),
  ]);
  const outs = await victimRun;
  expect(outs).toMatchObject([{ index: 0, ok: true, value: 'honest' }]);
  await expect(page.getByTestId('sandbox-faults')).toHaveCount(0);
});

test('without the page policy, the same bare probe reaches another host (the policy is what stops it)', async () => {
  // The grid's origin, but a page served without the worker page's Content-Security-Policy.
  const page = await openTab('?threads=1');
  await page.route(`${grid.url}/no-policy`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>no policy</title>' }),
  );
  const withPolicy = await harnessVerdict(
    page,
    weakened(['throwers']),
    PROBES.find((p) => p.name === 'fetch')!,
  );
  expect(withPolicy).toMatch(/\[csp: connect-src\]/);
  expect(decoyHits).toEqual([]);
  await page.goto(`${grid.url}/no-policy`);
  const withoutPolicy = await harnessVerdict(
    page,
    weakened(['throwers']),
    PROBES.find((p) => p.name === 'fetch')!,
  );
  expect(withoutPolicy).toMatch(/^escaped: /);
  expect(decoyHits).toContain('/fetch');
});

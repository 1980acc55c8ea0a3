/**
 * One fuzz run: the real server in a child process, watched from outside (RSS, /healthz); an
 * honest load beside it; the attack families one after another. Returns everything seen, for
 * the test to judge and to print.
 */
import { ProgramCache } from '../program-cache.js';
import { Rng, hash32 } from '../random.js';
import type { AttackContext, AttackFamily, FamilyCheck } from './attack.js';
import { HONEST_TASKS, HonestLoad, type JobCheck } from './honest-load.js';
import { REST_FAMILIES } from './rest-attacks.js';
import { SDK_FAMILIES } from './sdk-attacks.js';
import { startServerProcess, type ServerExit, type ServerProcess } from '@tabgrid/server/testing';
import { Tally, type Target } from './tally.js';
import { VitalSigns, type BadReading, type VitalReport } from './vital-signs.js';
import { WORKER_FAMILIES } from './worker-attacks.js';

/**
 * Every family, in the order they run. Those that brought down the server of issue #11 come
 * last, so one crash does not hide what the others would have found.
 */
export const FAMILIES: readonly AttackFamily[] = (() => {
  const all = [...WORKER_FAMILIES, ...SDK_FAMILIES, ...REST_FAMILIES];
  const last = ['oversize', 'sio-subscribe-flood', 'sio-placeholder', 'deep', 'binary-amplify'];
  return [
    ...all.filter((f) => !last.includes(f.name)),
    ...last.map((n) => all.find((f) => f.name === n) as AttackFamily),
  ];
})();

/** The families named in `only` (comma-separated, e.g. FUZZ_ONLY=deep,forge), or all. */
export function selectFamilies(only: string | undefined): AttackFamily[] {
  const names = (only ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) return [...FAMILIES];
  const unknown = names.filter((n) => !FAMILIES.some((f) => f.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown attack families: ${unknown.join(', ')}. Known: ${FAMILIES.map((f) => f.name).join(', ')}.`,
    );
  }
  return FAMILIES.filter((f) => names.includes(f.name));
}

export interface FamilyReport {
  name: string;
  target: Target;
  sent: number;
  ms: number;
  checks: FamilyCheck[];
  /** The family threw (a bug in the attacker, or the server vanished mid-attack). */
  failed: string | undefined;
  notes: Record<string, number>;
  internalErrors: number;
  bad: BadReading[];
}

export interface FuzzReport {
  families: FamilyReport[];
  sent: Record<Target, number>;
  vitals: VitalReport;
  /** Set when the server process ended during the run. */
  serverExit: ServerExit | undefined;
  /** The family running when the server ended. */
  diedDuring: string | undefined;
  serverOutput: string;
  jobs: JobCheck[];
  listingProblems: string[];
  ms: number;
}

export interface FuzzOptions {
  families: AttackFamily[];
  seed?: number;
  /** How long the checked jobs may take to finish once the attack ended (ms). */
  settleMs?: number;
  log?: (line: string) => void;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const server = await startServerProcess();
  const running: string[] = [];
  const vitals = new VitalSigns({
    pid: server.pid,
    healthzUrl: `${server.url}/healthz`,
    running: () => [...running],
  });
  let diedDuring: string | undefined;
  let lastFamily = 'the start';
  void server.exited.then(() => (diedDuring = running[0] ?? `the pause after ${lastFamily}`));
  try {
    const { families, jobs, listingProblems, sent } = await attack(
      server,
      running,
      vitals,
      options,
      (name) => (lastFamily = name),
    );
    // Read before stopping it: only an exit during the run counts.
    const serverExit = server.exit;
    return {
      families,
      sent,
      vitals: await vitals.stop(),
      serverExit,
      diedDuring: serverExit ? diedDuring : undefined,
      serverOutput: server.output().slice(-4000),
      jobs,
      listingProblems,
      ms: Date.now() - started,
    };
  } finally {
    await vitals.stop();
    await server.stop();
  }
}

/** The honest load and the families, one after another, while `running` names the current one. */
async function attack(
  server: ServerProcess,
  running: string[],
  vitals: VitalSigns,
  options: FuzzOptions,
  finished: (family: string) => void,
): Promise<Pick<FuzzReport, 'families' | 'jobs' | 'listingProblems' | 'sent'>> {
  const log = options.log ?? (() => undefined);
  const wsUrl = `ws://127.0.0.1:${server.port}/ws/worker`;
  const tally = new Tally();
  const load = await HonestLoad.start(server.url, wsUrl, server.adminToken);
  const families: FamilyReport[] = [];
  let jobs: JobCheck[] = [];
  let listingProblems: string[] = [];
  try {
    const ctx: AttackContext = {
      url: server.url,
      wsUrl,
      adminToken: server.adminToken,
      clientToken: load.clientToken,
      tally,
      programs: new ProgramCache(),
      jobs: {
        honest: load.jobId('honest'),
        quorum: load.jobId('quorum'),
        bait: load.jobId('bait'),
      },
      honestTotal: HONEST_TASKS,
      honestSettled: () => load.settled('honest'),
      honestIndexSettled: (index) => load.isSettled('honest', index),
    };
    for (const family of options.families) {
      if (server.exit) {
        families.push({
          name: family.name,
          target: family.target,
          sent: 0,
          ms: 0,
          checks: [],
          failed: 'not run: the server was gone',
          notes: {},
          internalErrors: 0,
          bad: [],
        });
        continue;
      }
      const t0 = Date.now();
      const badBefore = vitals.snapshot().bad.length;
      running.push(family.name);
      let checks: FamilyCheck[] = [];
      let failed: string | undefined;
      try {
        checks = (await family.run(ctx, new Rng(hash32(family.name) ^ (options.seed ?? 1)))) ?? [];
      } catch (err) {
        failed = err instanceof Error ? (err.stack ?? err.message) : String(err);
      }
      running.splice(running.indexOf(family.name), 1);
      finished(family.name);
      const report: FamilyReport = {
        name: family.name,
        target: family.target,
        sent: tally.byFamily.get(family.name) ?? 0,
        ms: Date.now() - t0,
        checks,
        failed,
        notes: Object.fromEntries(tally.notes.get(family.name) ?? []),
        internalErrors: tally.internalErrors.get(family.name) ?? 0,
        bad: vitals.snapshot().bad.slice(badBefore),
      };
      families.push(report);
      log(
        `fuzz: ${family.name}: ${report.sent} sent in ${report.ms} ms${report.bad.length ? `, ${report.bad.length} bad readings` : ''}${server.exit ? ' — THE SERVER IS GONE' : ''}`,
      );
    }
    load.stopPacing();
    if (!server.exit) {
      jobs = await load.check(options.settleMs ?? 60_000);
      listingProblems = await load.listings();
    }
  } finally {
    await load.stop();
  }
  return { families, jobs, listingProblems, sent: { ...tally.byTarget } };
}

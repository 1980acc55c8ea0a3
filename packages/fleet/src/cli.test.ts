/**
 * The `tabgrid` CLI as users run it: the built executable spawned against a real server
 * (buildApp on a temp dir) whose tasks run on fleet workers. `run` with JSON and NDJSON, from a
 * file and from stdin; exit codes (0 all ok, 1 a task failed, 2 bad input, 3 cancelled); the
 * summary with its error groups; `--out`; `watch`, `results`, `errors` and `jobs`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '@tabgrid/server/testing';
import { serverPerFile } from '@tabgrid/server/testing/vitest';
import { Fleet } from './fleet.js';

/** The built CLI: what the package's bin launcher starts. */
const CLI = join(dirname(createRequire(import.meta.url).resolve('@tabgrid/sdk')), 'cli', 'bin.js');

const env = serverPerFile();
/** Programs, task files and --out files of this file's tests. */
const dir = mkdtempSync(join(tmpdir(), 'tabgrid-cli-'));

beforeAll(async () => {
  const fleet = env.adopt(new Fleet({ url: env.wsUrl, workers: 2, threads: 2, credit: 8 }));
  await fleet.start();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args` (stdin: `input`, if given) and resolves when it exits. */
function cli(args: string[], input?: string, onStart?: (pid: number) => void): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, TABGRID_URL: env.url, TABGRID_TOKEN: env.token },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (child.pid !== undefined) onStart?.(child.pid);
    if (input === undefined) child.stdin.end();
    else child.stdin.end(input);
  });
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Fails tasks whose input is 4 mod 5: with "bad 0" for even inputs, "bad 1" for odd ones. */
const FAILING = file(
  'failing.js',
  'function Run(d) { if (d % 5 === 4) throw new RangeError("bad " + (d % 2)); return d * 2 }',
);
const DOUBLE = file('double.js', 'function Run(d) { return d * 2 }');

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { index: number; ok: boolean; value?: number });

function expectEveryIndexOnce(outcomes: { index: number }[], total: number): void {
  expect(outcomes.map((o) => o.index).sort((a, b) => a - b)).toEqual(
    Array.from({ length: total }, (_, i) => i),
  );
}

describe('tabgrid run', { timeout: 60_000 }, () => {
  it('runs a JSON array file, exits 1 when tasks failed, and groups their errors', async () => {
    const tasks = file('twenty.json', JSON.stringify(Array.from({ length: 20 }, (_, i) => i)));
    const ran = await cli(['run', FAILING, tasks, '--name', 'cli-failing']);
    expect(ran.code).toBe(1);
    const outcomes = lines(ran.stdout);
    expectEveryIndexOnce(outcomes, 20);
    for (const o of outcomes) {
      if (o.index % 5 === 4) expect(o.ok).toBe(false);
      else expect(o).toMatchObject({ ok: true, value: o.index * 2 });
    }
    // 4, 14 fail with "bad 0"; 9, 19 with "bad 1": two groups of two.
    expect(ran.stderr).toMatch(/\(cli-failing\): 20 tasks: 16 succeeded, 4 failed in \S+ \(/);
    expect(ran.stderr).toContain('  top errors:\n');
    expect(ran.stderr).toContain('2 × program  RangeError: bad 0  (first: task 4)');
    expect(ran.stderr).toContain('2 × program  RangeError: bad 1  (first: task 9)');
    expect(ran.stderr).toMatch(/look closer: tabgrid errors \S+ · tabgrid replay \S+ 4\n/);
  });

  it('streams NDJSON from stdin, writes --out instead of stdout, and exits 0 when all succeed', async () => {
    const out = join(dir, 'out.ndjson');
    const input = Array.from({ length: 50 }, (_, i) => JSON.stringify(i)).join('\n');
    const ran = await cli(['run', DOUBLE, '-', '--out', out, '--name', 'cli-stdin'], input);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe('');
    const outcomes = lines(readFileSync(out, 'utf8'));
    expectEveryIndexOnce(outcomes, 50);
    expect(outcomes.every((o) => o.ok && o.value === o.index * 2)).toBe(true);
    expect(ran.stderr).toContain('(cli-stdin): streaming tasks from stdin');
    expect(ran.stderr).toMatch(/50 tasks: 50 succeeded, 0 failed in/);
    expect(ran.stderr).toContain(`  outcomes: ${out}\n`);
    expect(ran.stderr).not.toContain('top errors');
  });

  it('reads an NDJSON file (array tasks, blank lines) and a JSON array from stdin', async () => {
    const ndjson = file('pairs.ndjson', '[1, 2]\n\n[3, 4]\n[5, 6]\n');
    const sum = file('sum.js', 'function Run(pair) { return pair[0] + pair[1] }');
    const fromFile = await cli(['run', sum, ndjson]);
    expect(fromFile.code).toBe(0);
    expect(
      lines(fromFile.stdout)
        .map((o) => o.value)
        .sort((a, b) => (a ?? 0) - (b ?? 0)),
    ).toEqual([3, 7, 11]);
    const fromStdin = await cli(['run', DOUBLE, '-'], '[\n  1,\n  2,\n  3\n]\n');
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stderr).toContain('3 tasks from stdin');
    expectEveryIndexOnce(lines(fromStdin.stdout), 3);
  });

  it('passes job options and args from flags, and prints plain progress lines off a terminal', async () => {
    const slow = file(
      'slow.js',
      'async function Run(d, args) { await new Promise((r) => setTimeout(r, 150)); return d * args.k }',
    );
    const tasks = file('eight.json', JSON.stringify([1, 2, 3, 4, 5, 6, 7, 8]));
    const ran = await cli([
      'run',
      slow,
      tasks,
      '--args',
      '{"k":10}',
      '--timeout-ms',
      '20000',
      '--max-attempts',
      '2',
      '--priority=-1',
      '--name',
      'cli-options',
      '--progress-every',
      '0.1',
    ]);
    expect(ran.code).toBe(0);
    expect(
      lines(ran.stdout)
        .map((o) => o.value)
        .sort((a, b) => (a ?? 0) - (b ?? 0)),
    ).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
    const job = (await env.tg.jobs()).find((j) => j.name === 'cli-options');
    expect(job).toMatchObject({ timeoutMs: 20_000, maxAttempts: 2, priority: -1 });
    // 8 tasks of 150 ms on 4 threads outlast several 100 ms progress periods.
    expect(ran.stderr).toMatch(/tabgrid: job \S+: \d+\/8 settled, 0 failed, .* tasks\/s, elapsed /);
  });

  it('runs --local in threads here, with no server, and the same outcomes and exit code', async () => {
    const tasks = file('ten.json', JSON.stringify(Array.from({ length: 10 }, (_, i) => i)));
    const before = (await env.tg.jobs()).length;
    const ran = await cli([
      'run',
      FAILING,
      tasks,
      '--local',
      '--threads',
      '2',
      '--url',
      'http://127.0.0.1:1',
    ]);
    expect(ran.code).toBe(1);
    const outcomes = lines(ran.stdout);
    expectEveryIndexOnce(outcomes, 10);
    expect(
      outcomes
        .filter((o) => !o.ok)
        .map((o) => o.index)
        .sort(),
    ).toEqual([4, 9]);
    expect(ran.stderr).toContain('10 tasks: 8 succeeded, 2 failed');
    expect(ran.stderr).not.toContain('look closer'); // a local job is gone once the CLI exits
    expect((await env.tg.jobs()).length).toBe(before);
  });

  it('exits 2 on input that is not tasks, before creating a job', async () => {
    const before = (await env.tg.jobs()).length;
    const bad = file('bad.ndjson', 'not json\n2\n');
    const ran = await cli(['run', DOUBLE, bad]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(`TASKS ${bad} line 1 is not JSON`);
    expect((await env.tg.jobs()).length).toBe(before);
    const usage = await cli(['run', DOUBLE]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('run needs PROGRAM and TASKS');
    const flag = await cli(['run', DOUBLE, bad, '--redundancy', '99']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--redundancy must be an integer from 1 to 16');
  });

  it('exits 3 when the job is cancelled while it runs, and says so', async () => {
    const slow = file(
      'slower.js',
      'async function Run(d) { await new Promise((r) => setTimeout(r, 50)); return d }',
    );
    const tasks = file('many.ndjson', Array.from({ length: 2_000 }, (_, i) => i).join('\n'));
    const running = cli(['run', slow, tasks, '--name', 'cli-cancel', '--quiet']);
    await until(async () => {
      const job = (await env.tg.jobs()).find((j) => j.name === 'cli-cancel');
      return job !== undefined && job.finished > 0;
    });
    const job = (await env.tg.jobs()).find((j) => j.name === 'cli-cancel');
    await env.tg.job(job?.id ?? '').cancel();
    const ran = await running;
    expect(ran.code).toBe(3);
    expect(ran.stderr).toMatch(/the job was cancelled/);
    expect(ran.stderr).toMatch(/\d+ succeeded, 0 failed, \d+ cancelled/);
  });
});

describe('tabgrid watch, results, errors, replay, jobs', { timeout: 60_000 }, () => {
  let jobId: string;
  beforeAll(async () => {
    const job = await env.tg.createJob({
      program: readFileSync(FAILING, 'utf8'),
      name: 'cli-done',
    });
    jobId = job.id;
    for await (const _ of job.run(Array.from({ length: 10 }, (_, i) => i))) void _;
  }, 30_000);

  it('results and errors print JSON lines of the finished job (by id or by name)', async () => {
    const results = await cli(['results', jobId]);
    expect(results.code).toBe(0);
    const values = lines(results.stdout);
    expect(values.map((r) => r.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 5, 6, 7, 8]);
    expect(values.every((r) => r.value === r.index * 2)).toBe(true);
    const errors = await cli(['errors', 'cli-done']);
    expect(errors.code).toBe(0);
    const failed = errors.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: number; type: string; message: string; stack: string });
    expect(failed.map((e) => [e.index, e.type, e.message]).sort()).toEqual([
      [4, 'program', 'bad 0'],
      [9, 'program', 'bad 1'],
    ]);
  });

  it('replay reruns a failed task here and prints its error with the stack on the program', async () => {
    const failed = await cli(['replay', jobId, '4']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain(`replaying task 4 of job ${jobId} (cli-done) on this machine`);
    expect(failed.stderr).toMatch(
      /task 4 failed \(program\) in \S+:\nRangeError: bad 0\n {4}at Run \(job\.js:1:\d+\)/,
    );
    const succeeded = await cli(['replay', 'cli-done', '3']);
    expect(succeeded.code).toBe(0);
    expect(succeeded.stdout).toBe('6\n');
    const outOfRange = await cli(['replay', jobId, '10']);
    expect(outOfRange.code).toBe(2);
    expect(outOfRange.stderr).toContain('INDEX goes from 0 to 9');
  });

  it('watch prints the summary of a finished job and exits 1 for its failures', async () => {
    const ran = await cli(['watch', jobId]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(`watching job ${jobId} (cli-done): 10/10 settled, done`);
    expect(ran.stderr).toContain('10 tasks: 8 succeeded, 2 failed');
    expect(ran.stderr).toContain('1 × program  RangeError: bad 0  (first: task 4)');
  });

  it('jobs lists newest first with progress and age; a wrong id is answered with a CLI hint', async () => {
    const newest = await env.tg.createJob({
      program: 'function Run(d) { return d }',
      name: 'cli-newest',
    });
    const ran = await cli(['jobs']);
    expect(ran.code).toBe(0);
    const [header, first] = ran.stdout.split('\n');
    expect(header).toMatch(
      /^ID\s+NAME\s+STATE\s+PROGRESS\s+FAILED\s+RUNNING\s+QUEUED\s+PRIORITY\s+AGE$/,
    );
    expect(first).toMatch(new RegExp(`^${newest.id}\\s+cli-newest\\s+open\\s+0/0\\s`));
    expect(ran.stdout).toMatch(/cli-done\s+done\s+10\/10 100%\s+2\s/);
    const missing = await cli(['status', 'no-such-job']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('tabgrid jobs');
    expect(missing.stderr).not.toContain('/api/');
  });
});

/**
 * The task model over the wire, end to end on a real server: a raw worker (NodeWorker) holds
 * its tasks and sends `report` frames and outcomes with series as a tab does; the SDK reads
 * them with job.logs()/events()/progress()/series() (across a dropped connection: no loss, no
 * repeat), tells the job, finds the latest job of a name, lists workers and adds notes; the
 * CLI prints logs and series (--csv) from the same server.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import type { Job, JobEvent, LogLine, SeriesItem, TaskProgress } from '@tabgrid/sdk';
import { NodeWorker } from '../testing/node-worker.js';
import { until } from '../testing/until.js';
import { serverPerTest } from '../testing/vitest.js';

const env = serverPerTest();

interface Held {
  jobId: string;
  index: number;
}

/** A NodeWorker that keeps every task it is given: the test reports on it and settles it. */
async function holdingWorker(): Promise<{
  worker: NodeWorker;
  held: Held[];
  frames: Record<string, unknown>[];
}> {
  const held: Held[] = [];
  const frames: Record<string, unknown>[] = [];
  const worker = env.adopt(
    new NodeWorker(env.wsUrl, {
      beforeTask: (jobId, index) => {
        held.push({ jobId, index });
        return false;
      },
    }),
  );
  worker.socket.on('message', (data: Buffer) => {
    try {
      frames.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    } catch {
      // A binary frame (tasks with bytes): not one these tests look at.
    }
  });
  await worker.opened;
  // Eight threads: the server leases a few tasks per thread, and these tests hold them all.
  worker.send({
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    threads: 8,
    userAgent: 'node-worker',
    credit: 100,
  });
  return { worker, held, frames };
}

const now = () => Date.now();

function report(worker: NodeWorker, items: Record<string, unknown>[]): void {
  worker.send({ type: 'report', items });
}

function settle(worker: NodeWorker, jobId: string, index: number, series?: unknown[]): void {
  worker.send({
    type: 'outcomes',
    credit: 1,
    items: [{ jobId, index, ms: 1, ok: true, value: index, ...(series ? { series } : {}) }],
  });
}

/** Collects a stream into `into` until it ends; resolves then. */
async function drain<T>(stream: AsyncIterable<T>, into: T[]): Promise<void> {
  for await (const item of stream) into.push(item);
}

async function jobWithTasks(count: number, name?: string): Promise<Job> {
  const job = await env.tg.createJob({
    program: 'function Run(d) { return d }',
    ...(name === undefined ? {} : { name }),
  });
  await job.submit(Array.from({ length: count }, (_, i) => i));
  await job.close();
  return job;
}

/** Cuts the SDK's connection from the server side (socket.io leaves reconnecting to the SDK). */
function dropSdk(): void {
  env.server.io.disconnectSockets(true);
}

describe('job.logs() and job.events()', () => {
  it(
    'deliver every line and event once, in order, across a dropped connection, and end after the job',
    { timeout: 30_000 },
    async () => {
      const job = await jobWithTasks(3);
      const { worker, held } = await holdingWorker();
      await until(() => held.length === 3, { what: 'the worker to hold 3 tasks' });
      const lines: LogLine[] = [];
      const events: JobEvent[] = [];
      const logsDone = drain(job.logs(), lines);
      const eventsDone = drain(job.events(), events);

      report(worker, [
        {
          jobId: job.id,
          index: 0,
          logs: [
            { level: 'log', message: 'first', count: 1, at: now() },
            { level: 'warn', message: 'again', count: 50, at: now() },
          ],
          events: [{ name: 'best', data: { loss: 0.5 }, at: now() }],
        },
      ]);
      await until(() => lines.length === 2 && events.length === 1, { what: 'the first report' });
      dropSdk();
      report(worker, [
        {
          jobId: job.id,
          index: 1,
          logs: [{ level: 'error', message: 'third', count: 1, at: now() }],
        },
        {
          jobId: job.id,
          index: null,
          logs: [{ level: 'info', message: 'setup', count: 1, at: now() }],
        },
        { jobId: job.id, index: 1, events: [{ name: 'best', data: { loss: 0.25 }, at: now() }] },
      ]);
      for (const { index } of held) settle(worker, job.id, index);
      await Promise.all([logsDone, eventsDone]);

      expect(lines.map((l) => [l.index, l.level, l.count, l.message])).toEqual([
        [0, 'log', 1, 'first'],
        [0, 'warn', 50, 'again'],
        [1, 'error', 1, 'third'],
        [null, 'info', 1, 'setup'],
      ]);
      expect(Object.keys(lines[0]!).sort()).toEqual(
        ['at', 'count', 'index', 'level', 'message', 'workerId'].sort(),
      );
      expect(new Date(lines[0]!.at).toISOString()).toBe(lines[0]!.at);
      expect(typeof lines[0]!.workerId).toBe('string');
      expect(events.map((e) => [e.index, e.name, e.data])).toEqual([
        [0, 'best', { loss: 0.5 }],
        [1, 'best', { loss: 0.25 }],
      ]);
      // Read again after the job ended: the same lines, from the store.
      const again: LogLine[] = [];
      await drain(job.logs(), again);
      expect(again).toEqual(lines);
    },
  );
});

describe('job.series(label) and job.seriesLabels()', () => {
  it(
    'one item per settled task, across a dropped connection; all of them again after the job ended',
    { timeout: 30_000 },
    async () => {
      const job = await jobWithTasks(4, 'series-run');
      const { worker, held } = await holdingWorker();
      await until(() => held.length === 4, { what: 'the worker to hold 4 tasks' });
      const live: SeriesItem[] = [];
      const liveDone = drain(job.series('loss'), live);
      settle(worker, job.id, 0, [{ label: 'loss', values: [1, 0.5] }]);
      settle(worker, job.id, 1, [
        { label: 'loss', values: [0.9] },
        { label: 'acc', values: [0.1, 0.2] },
      ]);
      await until(() => live.length === 2, { what: 'two series items' });
      dropSdk();
      settle(worker, job.id, 2);
      settle(worker, job.id, 3, [{ label: 'loss', values: [{ step: 'last' }] }]);
      await liveDone;

      const byIndex = (items: SeriesItem[]) => [...items].sort((a, b) => a.index - b.index);
      const expected = [
        { index: 0, values: [1, 0.5] },
        { index: 1, values: [0.9] },
        { index: 3, values: [{ step: 'last' }] },
      ];
      expect(byIndex(live)).toEqual(expected);
      expect(live).toHaveLength(3);
      expect(await job.seriesLabels()).toEqual(['acc', 'loss']);
      const later: SeriesItem[] = [];
      await drain((await env.tg.latestJob('series-run'))!.series('loss'), later);
      expect(byIndex(later)).toEqual(expected);
    },
  );
});

describe('job.progress()', () => {
  it(
    "sees running tasks' fractions, and alive reports without one",
    { timeout: 30_000 },
    async () => {
      const job = await jobWithTasks(2);
      const { worker, held } = await holdingWorker();
      await until(() => held.length === 2, { what: 'the worker to hold 2 tasks' });
      const seen: TaskProgress[] = [];
      const done = drain(job.progress(), seen);
      report(worker, [
        { jobId: job.id, index: 0, started: true, progress: 0.5 },
        { jobId: job.id, index: 1, started: true, progress: null },
      ]);
      await until(() => seen.some((p) => p.index === 0 && p.fraction === 0.5), {
        what: 'progress 0.5 of task 0',
      });
      await until(() => seen.some((p) => p.index === 1), { what: 'task 1 alive' });
      const alive = seen.find((p) => p.index === 1)!;
      expect('fraction' in alive).toBe(false);
      for (const { index } of held) settle(worker, job.id, index);
      await done;
    },
  );
});

describe('job.tell(data)', () => {
  it(
    'stores the message once, sends it to the threads, and refuses once the job is done',
    { timeout: 30_000 },
    async () => {
      const job = await jobWithTasks(1);
      const { worker, held, frames } = await holdingWorker();
      await until(() => held.length === 1, { what: 'the worker to hold its task' });
      await expect(job.tell({ go: 1 })).resolves.toEqual({ seq: 1 });
      // The REST route with an Idempotency-Key: sent twice, stored once.
      const post = (key = 'm-2') =>
        fetch(`${env.url}/api/jobs/${job.id}/messages`, {
          method: 'POST',
          headers: { ...env.auth, 'idempotency-key': key, 'content-type': 'application/json' },
          body: JSON.stringify({ go: 2 }),
        });
      const first = await post();
      expect(first.status).toBe(201);
      expect(await first.json()).toEqual({ seq: 2 });
      expect(await (await post()).json()).toEqual({ seq: 2 });
      await until(
        () =>
          frames.filter((f) => f.type === 'messages').flatMap((f) => f.items as unknown[]).length >=
          2,
        { what: 'the messages to reach the worker' },
      );
      const sent = frames
        .filter((f) => f.type === 'messages')
        .flatMap((f) => f.items as { seq: number; data: unknown }[]);
      expect(sent).toEqual([
        { seq: 1, data: { go: 1 } },
        { seq: 2, data: { go: 2 } },
      ]);
      settle(worker, job.id, 0);
      await until(async () => (await job.status()).state === 'done', { what: 'the job to end' });
      await expect(job.tell({ go: 3 })).rejects.toMatchObject({ code: ErrorCode.JOB_FINISHED });
      const late = await post('m-3');
      expect(late.status).toBe(409);
      expect(((await late.json()) as { error: { code: string } }).error.code).toBe(
        ErrorCode.JOB_FINISHED,
      );
      // A resend of a message told while the job ran still answers its seq.
      expect(await (await post()).json()).toEqual({ seq: 2 });
    },
  );
});

describe('tg.latestJob(name), tg.workers(), tg.note(text)', () => {
  it(
    'finds the newest job of a name, lists the worker, adds a note',
    { timeout: 30_000 },
    async () => {
      const older = await jobWithTasks(0, 'exp');
      const newer = await jobWithTasks(0, 'exp');
      expect((await env.tg.latestJob('exp'))?.id).toBe(newer.id);
      expect(newer.id).not.toBe(older.id);
      expect(await env.tg.latestJob('no-such-name')).toBeUndefined();
      const rest = await fetch(`${env.url}/api/jobs?name=exp&latest=1`, { headers: env.auth });
      expect(((await rest.json()) as { id: string }).id).toBe(newer.id);

      await holdingWorker();
      await until(async () => (await env.tg.workers()).length === 1, { what: 'the worker listed' });
      const [monitor] = await env.tg.workers();
      expect(monitor).toMatchObject({ userAgent: 'node-worker', threads: 8 });

      await expect(env.tg.note('phase 2')).resolves.toBeUndefined();
      await expect(env.tg.note('')).rejects.toMatchObject({ code: ErrorCode.INVALID_REQUEST });
    },
  );
});

/** The built CLI of @tabgrid/sdk. */
const CLI = join(dirname(createRequire(import.meta.url).resolve('@tabgrid/sdk')), 'cli', 'bin.js');
const run = promisify(execFile);

function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, ...args], {
    env: { ...process.env, TABGRID_URL: env.url, TABGRID_TOKEN: env.token },
  });
}

describe('the CLI: tabgrid logs, tabgrid series', () => {
  it(
    'prints the logs of a job named by id or name, and a series as JSON lines or CSV',
    { timeout: 60_000 },
    async () => {
      const job = await jobWithTasks(2, 'cli-run');
      const { worker, held } = await holdingWorker();
      await until(() => held.length === 2, { what: 'the worker to hold 2 tasks' });
      report(worker, [
        {
          jobId: job.id,
          index: 0,
          logs: [
            { level: 'log', message: 'hello', count: 1, at: now() },
            { level: 'warn', message: 'again', count: 50, at: now() },
          ],
        },
      ]);
      settle(worker, job.id, 0, [{ label: 'loss', values: [1, 0.5] }]);
      settle(worker, job.id, 1, [{ label: 'loss', values: ['x,"y"'] }]);
      await until(async () => (await job.status()).state === 'done', { what: 'the job to end' });

      const byName = await cli('logs', 'cli-run');
      expect(byName.stdout).toBe('[0] log hello\n[0] warn ×50 again\n');
      // --follow ends by itself once the job has ended (after the grace for Teardown's lines).
      expect((await cli('logs', job.id, '--follow')).stdout).toBe(byName.stdout);

      const lines = (await cli('series', job.id, 'loss')).stdout.trim().split('\n');
      expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
        { index: 0, values: [1, 0.5] },
        { index: 1, values: ['x,"y"'] },
      ]);
      const csv = await cli('series', 'cli-run', 'loss', '--csv');
      expect(csv.stdout).toBe('index,step,value\n0,0,1\n0,1,0.5\n1,0,"""x,\\""y\\"""""\n');

      await expect(cli('logs', 'no-such-job')).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('no-such-job'),
      });
    },
  );
});

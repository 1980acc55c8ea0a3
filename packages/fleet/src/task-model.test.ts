/**
 * The task model as simulated threads speak it (plan-13 §7): what one connection's executor
 * sends for programs with Setup/Teardown, progress, console, collect, emit, listen and next.
 * Every frame it sends is decoded by the protocol's own decoder (as the server decodes it).
 */
import { describe, expect, it } from 'vitest';
import type { TaskReport } from '@tabgrid/protocol/task-reports';
import {
  decodeWorkerToServer,
  type WorkerOutcome,
  type WorkerToServer,
} from '@tabgrid/protocol/worker';
import type { Behavior } from './behavior.js';
import { ProgramCache } from './program-cache.js';
import { Rng } from './random.js';
import { emptyStats } from './stats.js';
import { TaskExecutor } from './task-executor.js';

interface Harness {
  executor: TaskExecutor;
  frames: WorkerToServer[];
  behavior: Behavior;
  reports(): TaskReport[];
  outcomes(): WorkerOutcome[];
  run(program: string, inputs: unknown[], options?: Record<string, unknown>): Promise<void>;
}

function harness(threads = 1, behavior: Behavior = {}): Harness {
  const frames: WorkerToServer[] = [];
  const h: Harness = {
    frames,
    behavior,
    executor: new TaskExecutor(
      {
        behavior: () => h.behavior,
        rng: new Rng(1),
        stats: emptyStats(),
        threads,
        lieKey: 'w',
        send: (frame) => frames.push(decodeWorkerToServer(frame)),
      },
      new ProgramCache(),
    ),
    reports: () => frames.flatMap((f) => (f.type === 'report' ? f.items : [])),
    outcomes: () => frames.flatMap((f) => (f.type === 'outcomes' ? f.items : [])),
    async run(program, inputs, options = {}) {
      const before = h.outcomes().length;
      h.executor.onJob({
        type: 'job',
        jobId: 'j',
        program,
        args: null,
        timeoutMs: 5_000,
        ...options,
      });
      h.executor.onTasks({
        type: 'tasks',
        jobId: 'j',
        items: inputs.map((input, index) => ({ index, input })),
      });
      await until(() => h.outcomes().length >= before + inputs.length);
      h.executor.reports.flush();
    },
  };
  return h;
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!done()) throw new Error('timed out waiting');
}

const logsOf = (reports: TaskReport[], index: number | null) =>
  reports.filter((r) => r.index === index).flatMap((r) => r.logs ?? []);

describe('simulated threads: Setup and Teardown', () => {
  it('run Setup once per thread before its first task, timed, with its lines as the job’s', async () => {
    const h = harness(2);
    await h.run(
      `let ready = 0;
       async function Setup(args) { await new Promise(r => setTimeout(r, 5)); console.log('setup'); ready++; }
       async function Run(d) { await new Promise(r => setTimeout(r, 2)); return ready > 0 ? d * 2 : -1 }`,
      [1, 2, 3, 4, 5, 6],
    );
    expect(
      h
        .outcomes()
        .map((o) => (o.ok ? Number(o.value) : NaN))
        .sort((a, b) => a - b),
    ).toEqual([2, 4, 6, 8, 10, 12]);
    const setups = h.reports().filter((r) => r.setup);
    expect(setups).toHaveLength(2);
    expect(setups.every((r) => r.index === null && r.setup?.ok === true)).toBe(true);
    expect(logsOf(h.reports(), null).map((l) => l.message)).toEqual(['setup', 'setup']);
  });

  it('fail the task with Setup’s error (phase setup), and answer the thread’s later tasks alike', async () => {
    const h = harness(1);
    await h.run(
      'let calls = 0; function Setup() { calls++; throw new Error("no model " + calls) } function Run(d) { return d }',
      [1, 2, 3],
    );
    const errors = h.outcomes().map((o) => (o.ok ? undefined : o.error));
    expect(errors.map((e) => [e?.phase, e?.message])).toEqual([
      ['setup', 'no model 1'],
      ['setup', 'no model 1'],
      ['setup', 'no model 1'],
    ]);
    expect(errors[0]?.stack).toMatch(/at Setup \(job\.js:1:\d+\)/);
    expect(
      h
        .reports()
        .filter((r) => r.setup)
        .map((r) => r.setup?.ok),
    ).toEqual([false]);
  });

  it('time out a Setup that never returns after setupTimeoutMs', async () => {
    const h = harness(1);
    await h.run(
      'function Setup() { return new Promise(() => {}) } function Run(d) { return d }',
      [1],
      {
        setupTimeoutMs: 30,
      },
    );
    const [outcome] = h.outcomes();
    expect(outcome?.ok).toBe(false);
    if (outcome?.ok !== false) return;
    expect(outcome.error).toMatchObject({
      phase: 'setup',
      timedOut: true,
      message: 'Setup did not finish within setupTimeoutMs (30 ms)',
    });
  });

  it('run Teardown on each thread that ran the job when it is cancelled; its errors become lines', async () => {
    const h = harness(2);
    await h.run(
      `function Run(d) { return d }
       function Teardown() { console.log('bye'); throw new Error('oops') }`,
      [1, 2, 3, 4],
    );
    h.executor.onCancel('j');
    await until(() => logsOf(h.reports(), null).length > 0);
    const lines = logsOf(h.reports(), null);
    expect(lines.map((l) => l.message)).toContain('bye');
    expect(lines.find((l) => l.level === 'error')?.message).toBe('Teardown threw Error: oops');
  });
});

describe('simulated threads: progress, console, events', () => {
  it('coalesce a tight progress loop: the last value, a report or so, before the outcome', async () => {
    const h = harness(1);
    await h.run(
      'function Run() { for (let i = 0; i <= 1e6; i++) tabgrid.progress(i / 1e6); return 1 }',
      [0],
    );
    const progress = h.reports().filter((r) => r.progress !== undefined);
    expect(progress.length).toBeLessThanOrEqual(50);
    expect(progress.at(-1)?.progress).toBe(1);
    // The report frame went out before the outcome's.
    const kinds = h.frames.map((f) => f.type);
    expect(kinds.indexOf('report')).toBeLessThan(kinds.indexOf('outcomes'));
  });

  it('collapse identical lines into a count, cut at 1,000 per task with a synthetic line', async () => {
    const h = harness(1);
    await h.run(
      `function Run(d) {
         if (d === 0) { for (let i = 0; i < 50; i++) console.log('same', 1, {a: 2}); console.warn('w') }
         else for (let i = 0; i < 1500; i++) console.info('line', i);
         return d }`,
      [0, 1],
    );
    expect(logsOf(h.reports(), 0).map((l) => [l.level, l.message, l.count])).toEqual([
      ['log', 'same 1 {"a":2}', 50],
      ['warn', 'w', 1],
    ]);
    const lines = logsOf(h.reports(), 1);
    expect(lines).toHaveLength(1_001);
    expect(lines.at(-1)).toMatchObject({
      level: 'warn',
      message: '500 lines dropped (limit 1,000 per task)',
    });
    expect(h.reports().find((r) => r.index === 1 && r.dropped)?.dropped).toEqual({ logs: 500 });
  });

  it('send events with their data, and refuse one over 16 KB inside Run', async () => {
    const h = harness(1);
    await h.run(
      `function Run(d) {
         if (d === 1) tabgrid.emit('big', 'x'.repeat(20000));
         tabgrid.emit('found', { at: d, v: new Float64Array([1.5]) }); return d }`,
      [0, 1],
    );
    const events = h
      .reports()
      .flatMap((r) => (r.events ?? []).map((e) => [r.index, e.name, e.data]));
    expect(events).toEqual([
      [0, 'found', { at: 0, v: { '$tabgrid.bytes': 'Float64Array', base64: 'AAAAAAAA+D8=' } }],
    ]);
    const failed = h.outcomes().find((o) => !o.ok);
    expect(failed?.ok === false && failed.error.name).toBe('RangeError');
  });
});

describe('simulated threads: collected series', () => {
  it('ride in the outcome, per label, in order', async () => {
    const h = harness(1);
    await h.run(
      'function Run(d) { for (let i = 0; i < 3; i++) tabgrid.collect("loss", d + i / 10); tabgrid.collect("acc", [d]); return d }',
      [1],
    );
    expect(h.outcomes()[0]?.series).toEqual([
      { label: 'loss', values: [1, 1.1, 1.2] },
      { label: 'acc', values: [[1]] },
    ]);
  });

  it('throw inside Run over 1 MB per task, and after the server’s limit frame', async () => {
    const h = harness(1);
    await h.run(
      `function Run(d) {
         try { for (;;) tabgrid.collect('x', 'y'.repeat(1000)) } catch (e) { return e.name + ': ' + e.message }
       }`,
      [0],
    );
    expect(h.outcomes()[0]).toMatchObject({
      ok: true,
      value:
        "RangeError: tabgrid.collect: this task's series reached 1 MB (the limit per task); collect less per task or aggregate first",
    });
    h.executor.onTaskModel({
      type: 'limit',
      jobId: 'j',
      what: 'series',
      maxBytes: 256 * 1024 * 1024,
    });
    h.executor.onTasks({ type: 'tasks', jobId: 'j', items: [{ index: 5, input: 0 }] });
    await until(() => h.outcomes().length === 2);
    const second = h.outcomes()[1];
    expect(second?.ok && second.value).toMatch(
      /this job's series reached 256 MB \(the limit per job\)/,
    );
  });
});

describe('simulated threads: messages', () => {
  it('hand every message to next() and listen() once, in order, backlog first', async () => {
    const h = harness(1);
    h.executor.onJob({
      type: 'job',
      jobId: 'j',
      program: `const seen = [];
        function Setup() { tabgrid.listen((data, seq) => seen.push(seq + ':' + data.go)) }
        async function Run(d) { const m = await tabgrid.next(); return [m.go, seen.slice()] }`,
      args: null,
      timeoutMs: 5_000,
    });
    h.executor.onTaskModel({
      type: 'messages',
      jobId: 'j',
      items: [{ seq: 1, data: { go: 'a' } }],
    });
    h.executor.onTasks({
      type: 'tasks',
      jobId: 'j',
      items: [
        { index: 0, input: 0 },
        { index: 1, input: 0 },
      ],
    });
    await until(() => h.outcomes().length === 1);
    // A replayed seq (reconnect) is skipped.
    h.executor.onTaskModel({
      type: 'messages',
      jobId: 'j',
      items: [
        { seq: 1, data: { go: 'a' } },
        { seq: 2, data: { go: 'b' } },
      ],
    });
    await until(() => h.outcomes().length === 2);
    expect(h.outcomes().map((o) => o.ok && o.value)).toEqual([
      ['a', ['1:a']],
      ['b', ['1:a', '2:b']],
    ]);
  });
});

describe('simulated threads: plain programs and hostile ones', () => {
  it('send no report for a Run-only program', async () => {
    const h = harness(2);
    await h.run('function Run(d) { return d + 1 }', [1, 2, 3]);
    expect(h.frames.map((f) => f.type)).not.toContain('report');
  });

  it('report `started` for each task of a job with progressTimeoutMs', async () => {
    const h = harness(1);
    await h.run('function Run(d) { return d }', [1, 2], { progressTimeoutMs: 1_000 });
    expect(
      h
        .reports()
        .filter((r) => r.started)
        .map((r) => r.index),
    ).toEqual([0, 1]);
  });

  it('forge indexes, flood lines and spam progress when told to (within the frame bounds)', async () => {
    const h = harness(1, {
      reportLies: { forgeReportIndex: true, floodLogs: true, progressSpam: true },
    });
    await h.run(
      'function Run(d) { for (let i = 0; i < 5000; i++) { console.log(i); tabgrid.progress(i / 5000) } return d }',
      [3],
    );
    const reports = h.reports();
    expect(reports.every((r) => r.index === 1_000_000)).toBe(true);
    expect(reports.flatMap((r) => r.logs ?? [])).toHaveLength(5_000);
    expect(reports.filter((r) => r.progress !== undefined).length).toBeGreaterThan(1_000);
  });
});

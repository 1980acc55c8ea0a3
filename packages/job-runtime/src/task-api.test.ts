import { afterEach, describe, expect, it } from 'vitest';
import type { ThreadToPage } from './sandbox-protocol.js';
import { TASK_LIMITS } from './task-limits.js';
import { OUTCOME_LIMITS } from './outcome-limits.js';
import { ALL_PROTECTIONS, threadSource } from './thread-source.js';
import { startThread, type StartedThread, type TestClock } from './testing/start-thread.js';

type Results = Extract<ThreadToPage, { type: 'results' }>;
interface Item {
  index: number | null;
  progress?: number | null;
  logs?: { level: string; message: string; count: number; at: number }[];
  events?: { name: string; data: unknown; at: number }[];
  dropped?: { logs?: number; events?: number };
  setup?: { ms: number; ok: boolean };
}
interface Outcome {
  index: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string; stack: string; phase?: string; timedOut?: boolean };
  series?: { label: string; values: unknown[] }[];
}

let thread: StartedThread | undefined;
afterEach(() => thread?.close());

/** Every report item the thread sent (tel, setup, results, tornDown), in order. */
function reports(t: StartedThread): Item[] {
  const items: Item[] = [];
  for (const m of t.received) {
    if ('tel' in m && m.tel !== '') items.push(...(JSON.parse(`[${m.tel}]`) as Item[]));
  }
  return items;
}

async function runJob(program: string, inputs: unknown[], source?: string, clock?: TestClock) {
  const t = (thread = startThread(source, clock));
  t.send({ type: 'load', jobId: 'j', program, args: { k: 2 } });
  const tasks = inputs.map((input, index) => ({ index, input }));
  t.send({ type: 'run', chunkId: 1, tasks: JSON.stringify(tasks), flushEach: false });
  const outcomes = (await t.outcomes(1)) as Outcome[];
  return { t, outcomes };
}

const until = async (t: StartedThread, done: (all: ThreadToPage[]) => boolean) => {
  for (let i = 0; i < 500 && !done(t.received); i++) await new Promise((r) => setTimeout(r, 5));
  expect(done(t.received)).toBe(true);
};

describe('the tabgrid global', () => {
  it('is frozen, non-writable and non-configurable, with a null prototype', async () => {
    const program = `function Run() {
      const d = Object.getOwnPropertyDescriptor(globalThis, 'tabgrid');
      let replaced = 'no';
      try { globalThis.tabgrid = 1; } catch (e) { replaced = e.name; }
      let added = 'no';
      try { tabgrid.extra = 1; } catch (e) { added = e.name; }
      return [d.writable, d.configurable, Object.isFrozen(tabgrid), Object.getPrototypeOf(tabgrid),
        replaced, added, Object.keys(tabgrid).sort().join()];
    }`;
    const { outcomes } = await runJob(program, [0]);
    expect(outcomes[0]!.value).toEqual([
      false,
      false,
      true,
      null,
      'TypeError',
      'TypeError',
      'collect,emit,gpu,listen,next,progress',
    ]);
  });

  it('plain Run: no report text at all, outcomes as before', async () => {
    const { t, outcomes } = await runJob('function Run(d) { return d; }', [1, 2]);
    expect(outcomes.map((o) => o.value)).toEqual([1, 2]);
    expect(t.received.filter((m) => m.type === 'results').every((m) => m.tel === '')).toBe(true);
    expect(t.received.some((m) => m.type === 'tel' || m.type === 'setup')).toBe(false);
    expect(JSON.stringify(outcomes)).not.toContain('series');
  });

  it('collapses identical console lines with a count, keeps levels apart, cuts long ones', async () => {
    const program = `function Run(d) {
      for (let i = 0; i < 50; i++) console.log('step', 1, { a: [1] });
      console.warn('step', 1, { a: [1] });
      console.error(new RangeError('bad'));
      console.info('x'.repeat(5000));
      return d;
    }`;
    const { t } = await runJob(program, [7]);
    const [item] = reports(t);
    expect(item!.index).toBe(0);
    expect(
      item!.logs!.map(({ level, message, count }) => [level, message.slice(0, 20), count]),
    ).toEqual([
      ['log', 'step 1 {"a":[1]}', 50],
      ['warn', 'step 1 {"a":[1]}', 1],
      ['error', 'RangeError: bad', 1],
      ['info', 'x'.repeat(20), 1],
    ]);
    expect(item!.logs![3]!.message).toHaveLength(2000);
    expect(item!.logs![0]!.at).toBeGreaterThan(1.6e12);
  });

  it('caps lines per task, counts what it dropped and says so in a warn line', async () => {
    const program = `function Run() { for (let i = 0; i < 2204; i++) console.log('line ' + i); return 1; }`;
    const { t } = await runJob(program, [0]);
    const logs = reports(t).flatMap((item) => item.logs ?? []);
    expect(logs).toHaveLength(1001);
    expect(logs.at(-1)).toMatchObject({
      level: 'warn',
      message: '1,204 lines dropped (limit 1,000 per task)',
    });
    expect(reports(t).at(-1)!.dropped).toEqual({ logs: 1204 });
  });

  it('emits events with JSON data and refuses bad names and oversized data inside Run', async () => {
    const program = `function Run(k) {
      if (k === 0) { tabgrid.emit('found', { at: [1, 2], bytes: new Uint8Array([1]) }); return 1; }
      if (k === 1) tabgrid.emit('', 1);
      if (k === 2) tabgrid.emit('big', 'x'.repeat(20000));
      if (k === 3) { const a = []; let v = a; for (let i = 0; i < 40; i++) { v[0] = []; v = v[0]; } tabgrid.emit('deep', a); }
    }`;
    const { t, outcomes } = await runJob(program, [0, 1, 2, 3]);
    expect(reports(t)[0]!.events).toEqual([
      {
        name: 'found',
        data: { at: [1, 2], bytes: { '$tabgrid.bytes': 'Uint8Array', base64: 'AQ==' } },
        at: expect.any(Number),
      },
    ]);
    expect(outcomes.slice(1).map((o) => [o.error!.name, o.error!.message.slice(0, 29)])).toEqual([
      ['TypeError', 'tabgrid.emit: the name must b'],
      ['RangeError', 'tabgrid.emit: the data weighs'],
      ['RangeError', 'tabgrid.emit: the value nests'],
    ]);
  });

  it('appends collected series to the outcome, values serialised at call time', async () => {
    const program = `function Run(d) {
      const v = { x: 1 };
      tabgrid.collect('loss', 0.5);
      tabgrid.collect('loss', v);
      v.x = 2;
      tabgrid.collect('acc/top 1', new Float32Array([1]));
      if (d === 1) throw new Error('late');
      return d;
    }`;
    const { outcomes } = await runJob(program, [0, 1]);
    expect(outcomes[0]).toMatchObject({
      ok: true,
      value: 0,
      series: [
        { label: 'loss', values: [0.5, { x: 1 }] },
        { label: 'acc/top 1', values: [{ '$tabgrid.bytes': 'Float32Array', base64: 'AACAPw==' }] },
      ],
    });
    expect(outcomes[1]).toMatchObject({
      ok: false,
      series: [{ label: 'loss' }, { label: 'acc/top 1' }],
    });
  });

  it('throws inside Run over the per-task collect limit, with the message users read', async () => {
    const program = `function Run(k) {
      if (k === 0) { for (let i = 0; i < 2000; i++) tabgrid.collect('big', 'x'.repeat(1000)); }
      if (k === 1) tabgrid.collect('bad label!', 1);
      if (k === 2) { for (let i = 0; i < 65; i++) tabgrid.collect('l' + i, i); }
      if (k === 3) tabgrid.collect('g', { get x() { throw new Error('getter'); } });
      if (k === 4) { const c = {}; c.c = c; tabgrid.collect('cycle', c); }
    }`;
    const { outcomes } = await runJob(program, [0, 1, 2, 3, 4]);
    expect(outcomes[0]!.error).toMatchObject({
      name: 'RangeError',
      message:
        "tabgrid.collect: this task's series reached 1 MB (the limit per task); collect less per task or aggregate first",
    });
    expect(outcomes[1]!.error!.name).toBe('TypeError');
    expect(outcomes[2]!.error!.message).toMatch(/64 labels \(the limit per task\)/);
    expect(outcomes[3]!.error!.message).toMatch(
      /^tabgrid.collect: the value cannot be sent as JSON/,
    );
    expect(outcomes[4]!.error!.name).toBe('TypeError');
  });

  it('throws over the per-job limit once the server said the series are full', async () => {
    const t = (thread = startThread());
    t.send({
      type: 'load',
      jobId: 'j',
      program: 'function Run(d) { tabgrid.collect("x", d); return d; }',
      args: null,
    });
    t.send({
      type: 'limit',
      what: 'series',
      message:
        "tabgrid.collect: this job's series reached 256 MB (the limit per job); collect less per task or aggregate first",
    });
    t.send({
      type: 'run',
      chunkId: 1,
      tasks: JSON.stringify([{ index: 0, input: 1 }]),
      flushEach: false,
    });
    const [outcome] = (await t.outcomes(1)) as Outcome[];
    expect(outcome!.error!.message).toMatch(
      /^tabgrid.collect: this job's series reached 256 MB \(the limit per job\)/,
    );
  });

  it('coalesces progress: a tight loop of 1e6 calls posts every 100 ms, reading the clock rarely', async () => {
    const clock: TestClock = { now: 1000, reads: 0 };
    // 1e6 calls over 500 ms of the test's clock.
    const program = `function Run() {
      for (let n = 0; n < 1e6; n++) { advanceClock(0.0005); tabgrid.progress((n % 100) / 100); }
      tabgrid.progress();
      return 1;
    }`;
    const { t, outcomes } = await runJob(program, [0], undefined, clock);
    expect(outcomes[0]).toMatchObject({ ok: true });
    const posts = t.received.filter((m) => m.type === 'tel');
    // One post per 100 ms past the task's first 100 ms: 4 (5 if a check lands on 500 ms).
    expect(posts.length).toBeGreaterThanOrEqual(4);
    expect(posts.length).toBeLessThanOrEqual(5);
    for (const post of posts) {
      const [item] = JSON.parse(`[${post.tel}]`) as Item[];
      expect(item!.index).toBe(0);
      expect(typeof item!.progress).toBe('number');
    }
    // Every 64th call at most, once the loop is seen to be dense (plus the runtime's own reads).
    expect(clock.reads).toBeLessThan(1e6 / 64 + 100);
  });

  it('a slow task calling progress every 150 ms posts at each call, even after a dense burst', async () => {
    const clock: TestClock = { now: 1000, reads: 0 };
    const program = `function Run() {
      for (let n = 0; n < 10000; n++) tabgrid.progress(0);
      for (let i = 1; i <= 100; i++) { advanceClock(150); tabgrid.progress(i / 100); }
      return 1;
    }`;
    const { t } = await runJob(program, [0], undefined, clock);
    const fractions = t.received
      .filter((m) => m.type === 'tel')
      .map((m) => (JSON.parse(`[${m.tel}]`) as Item[])[0]!.progress);
    // The burst left the check at every 64th call: at most 64 slow calls pass before the first
    // check sees they are sparse; from then on every call posts (each is 150 ms after the last).
    expect(fractions.length).toBeGreaterThanOrEqual(100 - 64);
    expect(fractions.at(-1)).toBe(1);
    const tail = fractions.slice(-30);
    expect(tail).toEqual(Array.from({ length: 30 }, (_, i) => (71 + i) / 100));
  });

  it('short tasks with progress and collect post nothing mid-task and read the clock a few times', async () => {
    const clock: TestClock = { now: 1000, reads: 0 };
    // 0.1 ms per task on the test's clock: each task ends long before a post is due.
    const program = `function Run(d) {
      for (let i = 0; i < 100; i++) { advanceClock(0.001); tabgrid.progress(i / 100); }
      for (let i = 0; i < 10; i++) tabgrid.collect('x', i);
      return d * 2;
    }`;
    const tasks = 1000;
    const { t, outcomes } = await runJob(
      program,
      Array.from({ length: tasks }, (_, i) => i),
      undefined,
      clock,
    );
    expect(outcomes).toHaveLength(tasks);
    expect(outcomes.every((o, i) => o.ok && o.value === i * 2)).toBe(true);
    expect(
      outcomes.every(
        (o) => JSON.stringify(o.series) === '[{"label":"x","values":[0,1,2,3,4,5,6,7,8,9]}]',
      ),
    ).toBe(true);
    // The last progress of a settling task is dropped: no tel post, no tel text with results.
    expect(t.received.some((m) => m.type === 'tel')).toBe(false);
    expect(t.received.filter((m) => m.type === 'results').every((m) => m.tel === '')).toBe(true);
    // Per task: 3 reads of the runtime's own, and 6 for 100 calls (at calls 1, 3, 7, 15, 31, 63).
    expect(clock.reads).toBeLessThanOrEqual(tasks * 10);
  });

  it('an async task posts what it reported before its first await, before its outcome', async () => {
    const clock: TestClock = { now: 1000, reads: 0 };
    const program = `async function Run() { tabgrid.progress(0.3); await null; tabgrid.progress(0.6); return 1; }`;
    const { t } = await runJob(program, [0], undefined, clock);
    const kinds = t.received.filter((m) => m.type === 'tel' || m.type === 'results');
    expect(kinds.map((m) => m.type)).toEqual(['tel', 'results']);
    expect(JSON.parse(`[${(kinds[0] as { tel: string }).tel}]`)).toEqual([
      { index: 0, progress: 0.3 },
    ]);
    expect((kinds[1] as Results).tel).toBe('');
  });

  it('collects numbers exactly as JSON writes them', async () => {
    const program = `function Run() {
      for (const v of [0, -0, 1.5, 1e21, -1e-7, NaN, Infinity, -Infinity, 2 ** 53 + 2]) tabgrid.collect('n', v);
      return 1;
    }`;
    const { outcomes } = await runJob(program, [0]);
    expect(outcomes[0]!.series).toEqual([
      { label: 'n', values: [0, 0, 1.5, 1e21, -1e-7, null, null, null, 2 ** 53 + 2] },
    ]);
  });

  it('refuses NaN progress, clamps the rest, ignores progress outside a task', async () => {
    const program = `function Setup() { tabgrid.progress(0.5); tabgrid.collect('s', 1); }
      function Run(k) { if (k === 0) tabgrid.progress(NaN); tabgrid.progress(7); return 1; }`;
    const { outcomes } = await runJob(program, [0, 1]);
    expect(outcomes[0]!.error).toMatchObject({ name: 'TypeError' });
    expect(outcomes[1]).toMatchObject({ ok: true });
    expect(outcomes[1]!.series).toBeUndefined();
  });
});

describe('Setup and Teardown', () => {
  it('runs Setup once per thread before the first task, with args; Teardown on request', async () => {
    const program = `let table;
      async function Setup(args) { console.log('setup', args.k); await null; table = args.k * 10; }
      function Run(d) { return d + table; }
      function Teardown() { console.log('teardown'); throw new Error('cleanup failed'); }`;
    const { t, outcomes } = await runJob(program, [1, 2]);
    expect(outcomes.map((o) => o.value)).toEqual([21, 22]);
    t.send({
      type: 'run',
      chunkId: 2,
      tasks: JSON.stringify([{ index: 5, input: 3 }]),
      flushEach: false,
    });
    expect(((await t.outcomes(2)) as Outcome[])[0]!.value).toBe(23);
    expect(t.received.filter((m) => m.type === 'setup')).toHaveLength(1);
    expect(t.received.find((m) => m.type === 'loaded')).toEqual({
      type: 'loaded',
      setup: true,
      teardown: true,
    });
    t.send({ type: 'teardown' });
    await until(t, (all) => all.some((m) => m.type === 'tornDown'));
    const order = t.received.map((m) => m.type).filter((type) => type !== 'ready');
    expect(order).toEqual(['loaded', 'setup', 'results', 'results', 'tornDown']);
    const items = reports(t);
    expect(items[0]).toMatchObject({
      index: null,
      setup: { ok: true, ms: expect.any(Number) },
      logs: [{ message: 'setup 2' }],
    });
    expect(items.at(-1)!.logs!.map((l) => [l.level, l.message])).toEqual([
      ['log', 'teardown'],
      ['error', 'Teardown threw Error: cleanup failed'],
    ]);
  });

  it('a Setup that throws fails every task of the thread as phase setup, with its message', async () => {
    const program = `function Setup() { throw new TypeError('no model'); }
      function Run(d) { return d; }`;
    const { t, outcomes } = await runJob(program, [1, 2]);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        ok: false,
        error: { name: 'TypeError', message: 'no model', phase: 'setup' },
      });
      expect(outcome.error!.stack).toMatch(/job\.js:1/);
    }
    expect(t.received.find((m) => m.type === 'setup')).toMatchObject({ ok: false });
    t.send({
      type: 'run',
      chunkId: 2,
      tasks: JSON.stringify([{ index: 9, input: 0 }]),
      flushEach: false,
    });
    expect(((await t.outcomes(2)) as Outcome[])[0]!.error!.phase).toBe('setup');
    expect(t.received.filter((m) => m.type === 'setup')).toHaveLength(1);
  });

  it('a program without Setup or Teardown says so, and tears down at once', async () => {
    const { t } = await runJob('function Run(d) { return d; }', [1]);
    expect(t.received.find((m) => m.type === 'loaded')).toEqual({
      type: 'loaded',
      setup: false,
      teardown: false,
    });
    t.send({ type: 'teardown' });
    await until(t, (all) => all.some((m) => m.type === 'tornDown'));
    expect(t.received.at(-1)).toEqual({ type: 'tornDown', tel: '' });
  });
});

describe('messages: listen and next', () => {
  it('gives every message once and in order: backlog first, then live, to listen and next alike', async () => {
    const t = (thread = startThread());
    const program = `const seen = [];
      function Setup() { tabgrid.listen((data, seq) => { seen.push([seq, data]); if (data.bad) throw new Error('handler'); }); }
      async function Run(d) { const first = await tabgrid.next(); const second = await tabgrid.next(); return { first, second, seen }; }`;
    t.send({ type: 'load', jobId: 'j', program, args: null });
    t.send({ type: 'message', seq: 1, json: '{"go":1}' });
    t.send({ type: 'message', seq: 1, json: '{"replayed":1}' });
    t.send({
      type: 'run',
      chunkId: 1,
      tasks: JSON.stringify([{ index: 0, input: 0 }]),
      flushEach: false,
    });
    await until(t, (all) => all.some((m) => m.type === 'setup'));
    t.send({ type: 'message', seq: 2, json: '{"bad":1}' });
    const [outcome] = (await t.outcomes(1)) as Outcome[];
    expect(outcome!.value).toEqual({
      first: { go: 1 },
      second: { bad: 1 },
      seen: [
        [1, { go: 1 }],
        [2, { bad: 1 }],
      ],
    });
    const logs = reports(t).flatMap((item) => item.logs ?? []);
    expect(logs.map((l) => l.message)).toContain('tabgrid.listen handler threw Error: handler');
  });

  it('unlisten stops a handler; a handler that logs between tasks reports with index null', async () => {
    const t = (thread = startThread());
    const program = `let off; function Setup() { off = tabgrid.listen((d) => console.log('got', d)); }
      function Run(d) { if (d === 1) off(); return d; }`;
    t.send({ type: 'load', jobId: 'j', program, args: null });
    t.send({
      type: 'run',
      chunkId: 1,
      tasks: JSON.stringify([{ index: 0, input: 0 }]),
      flushEach: false,
    });
    await t.outcomes(1);
    t.send({ type: 'message', seq: 1, json: '"a"' });
    await until(t, (all) => all.some((m) => m.type === 'tel'));
    expect(reports(t).at(-1)).toMatchObject({ index: null, logs: [{ message: 'got a' }] });
    t.send({
      type: 'run',
      chunkId: 2,
      tasks: JSON.stringify([{ index: 1, input: 1 }]),
      flushEach: false,
    });
    await t.outcomes(2);
    t.send({ type: 'message', seq: 2, json: '"b"' });
    await new Promise((r) => setTimeout(r, 30));
    expect(
      reports(t)
        .flatMap((i) => i.logs ?? [])
        .map((l) => l.message),
    ).toEqual(['got a']);
  });
});

describe('limits are inlined', () => {
  it('builds with the task limits it is given', async () => {
    const source = threadSource(ALL_PROTECTIONS, OUTCOME_LIMITS, {
      ...TASK_LIMITS,
      logsPerTask: 3,
    });
    const { t } = await runJob(
      'function Run() { for (let i = 0; i < 5; i++) console.log(i); }',
      [0],
      source,
    );
    const logs = reports(t).flatMap((item) => item.logs ?? []);
    expect(logs.map((l) => l.message)).toEqual([
      '0',
      '1',
      '2',
      '2 lines dropped (limit 3 per task)',
    ]);
    expect(t.received.filter((m): m is Results => m.type === 'results')).toHaveLength(1);
  });
});

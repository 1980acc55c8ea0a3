import { decodeWorkerToServer } from '@tabgrid/protocol/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { OUTCOME_LIMITS } from './outcome-limits.js';
import { TASK_LIMITS } from './task-limits.js';
import type { ThreadToPage } from './sandbox-protocol.js';
import { ALL_PROTECTIONS, SANDBOX_WORKER_SOURCE, threadSource } from './thread-source.js';
import { startThread } from './testing/start-thread.js';

type Results = Extract<ThreadToPage, { type: 'results' }>;

let thread: ReturnType<typeof startThread> | undefined;
afterEach(() => thread?.close());

function run(program: string, inputs: unknown[], args: unknown = null, flushEach = false) {
  thread = startThread();
  thread.send({ type: 'load', jobId: 'job-1', program, args });
  const tasks = inputs.map((input, i) => ({ index: 10 + i, input }));
  thread.send({ type: 'run', chunkId: 1, tasks: JSON.stringify(tasks), flushEach });
  return thread.outcomes(1);
}

describe('sandbox thread runtime', () => {
  it('says ready, hides its port and removes the global handler', async () => {
    const t = (thread = startThread());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(t.received[0]).toEqual({ type: 'ready' });
    expect(t.scope.onmessage).toBeNull();
  });

  it('runs `function Run` on each input, in order, with the job args', async () => {
    const outcomes = await run('function Run(d, a) { return d * a.k; }', [1, 2, 3], { k: 2 });
    expect(outcomes).toEqual([
      { jobId: 'job-1', index: 10, ms: expect.any(Number), ok: true, value: 2 },
      { jobId: 'job-1', index: 11, ms: expect.any(Number), ok: true, value: 4 },
      { jobId: 'job-1', index: 12, ms: expect.any(Number), ok: true, value: 6 },
    ]);
  });

  it('accepts `var Run = ...` and awaits promises', async () => {
    const outcomes = await run('var Run = async (d) => d + 1;', [1]);
    expect(outcomes).toMatchObject([{ ok: true, value: 2 }]);
  });

  it('fails every task clearly when the program defines no Run', async () => {
    const outcomes = await run('function run(d) { return d; }', [1, 2]);
    expect(outcomes).toHaveLength(2);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        ok: false,
        error: { message: 'the program must define a function Run(input, args)' },
      });
    }
  });

  it('reports thrown errors, non-Error throws and unserialisable results', async () => {
    const program = `function Run(k) {
      if (k === 'range') throw new RangeError('too big');
      if (k === 'string') throw 'plain';
      if (k === 'object') throw { code: 7 };
      if (k === 'undefined') return undefined;
      if (k === 'bigint') return 1n;
      if (k === 'typed') return new Uint8Array([1, 2]);
    }`;
    const outcomes = await run(program, [
      'range',
      'string',
      'object',
      'undefined',
      'bigint',
      'typed',
    ]);
    expect(outcomes).toMatchObject([
      { ok: false, error: { name: 'RangeError', message: 'too big' } },
      { ok: false, error: { name: 'Error', message: 'plain', stack: '' } },
      { ok: false, error: { name: 'Error', message: 'Run threw a non-Error value: {"code":7}' } },
      { ok: true, value: null },
      {
        ok: false,
        error: { name: 'TypeError', message: expect.stringMatching(/cannot be sent as JSON/) },
      },
      { ok: true, value: { '$tabgrid.bytes': 'Uint8Array', base64: 'AQI=' } },
    ]);
  });

  it('revives typed arrays in inputs and returns them, with their kind, in the text form', async () => {
    const program = `function Run(d) {
      if (d.poke) return { '$tabgrid.bytes': 'mine' };
      return { kind: d.v.constructor.name, doubled: d.v.map((x) => x * 2), raw: d.raw.byteLength };
    }`;
    const v = { '$tabgrid.bytes': 'Float64Array', base64: btoa('\0\0\0\0\0\0\xf8\x3f') };
    const raw = { '$tabgrid.bytes': 'ArrayBuffer', base64: 'AQID' };
    const outcomes = await run(program, [{ v, raw }, { poke: true }]);
    expect(outcomes).toMatchObject([
      {
        ok: true,
        value: {
          kind: 'Float64Array',
          doubled: { '$tabgrid.bytes': 'Float64Array', base64: btoa('\0\0\0\0\0\0\x08\x40') },
          raw: 3,
        },
      },
      { ok: false, error: { message: expect.stringMatching(/reserved key/) } },
    ]);
  });

  it('makes network and DOM globals throw a clear error, unredefinably', async () => {
    const program = `function Run(k) {
      if (k === 'fetch') return fetch('http://example.com');
      if (k === 'ws') return new WebSocket('ws://example.com');
      if (k === 'document') return document.title;
      if (k === 'redefine') { Object.defineProperty(self, 'fetch', { value: () => 1 }); }
    }`.replace('self', 'globalThis');
    const outcomes = await run(program, ['fetch', 'ws', 'document', 'redefine']);
    expect(outcomes).toMatchObject([
      {
        ok: false,
        error: {
          message:
            'TG sandbox: fetch is not available to job code (tasks run without network access)',
        },
      },
      {
        ok: false,
        error: { message: expect.stringMatching(/^TG sandbox: WebSocket is not available/) },
      },
      {
        ok: false,
        error: { message: 'TG sandbox: job code runs in a Web Worker: there is no DOM (document)' },
      },
      { ok: false, error: { name: 'TypeError' } },
    ]);
  });

  it('flushes after every task in exact mode', async () => {
    const t = (thread = startThread());
    t.send({ type: 'load', jobId: 'j', program: 'function Run(d) { return d; }', args: null });
    const tasks = [1, 2, 3].map((input, index) => ({ index, input }));
    t.send({ type: 'run', chunkId: 5, tasks: JSON.stringify(tasks), flushEach: true });
    await t.outcomes(5);
    const flushes = t.received.filter((m): m is Results => m.type === 'results');
    expect(flushes.map((m) => [m.count, m.done])).toEqual([
      [1, false],
      [1, false],
      [1, true],
    ]);
  });

  it('batches tiny tasks into one flush otherwise, counting failures', async () => {
    const t = (thread = startThread());
    t.send({
      type: 'load',
      jobId: 'j',
      program: 'function Run(d) { if (d % 2) throw 1; return d; }',
      args: null,
    });
    const tasks = Array.from({ length: 100 }, (_, index) => ({ index, input: index }));
    t.send({ type: 'run', chunkId: 6, tasks: JSON.stringify(tasks), flushEach: false });
    await t.outcomes(6);
    const flushes = t.received.filter((m): m is Results => m.type === 'results');
    expect(flushes).toHaveLength(1);
    expect(flushes[0]).toMatchObject({ done: true, failures: 50 });
  });

  it('ends a long chunk early on `stop`, at its next flush, reporting what ran', async () => {
    const t = (thread = startThread());
    const program =
      'function Run(d) { const end = performance.now() + 3; while (performance.now() < end); return d; }';
    t.send({ type: 'load', jobId: 'j', program, args: null });
    const tasks = Array.from({ length: 50 }, (_, index) => ({ index, input: index }));
    t.send({ type: 'run', chunkId: 7, tasks: JSON.stringify(tasks), flushEach: false });
    // Queued behind the run: delivered at the chunk's first flush break (~10 ms, ~4 tasks in).
    t.send({ type: 'stop', chunkId: 7 });
    const outcomes = await t.outcomes(7);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.length).toBeLessThan(25);
    expect(outcomes).toMatchObject(
      tasks.slice(0, outcomes.length).map(({ index }) => ({ index, value: index })),
    );
    // The thread is free again: the next chunk runs.
    t.send({ type: 'run', chunkId: 8, tasks: JSON.stringify(tasks.slice(0, 2)), flushEach: false });
    expect(await t.outcomes(8)).toHaveLength(2);
  });

  it('compiles job code strict and keeps the stack API and Promise.prototype out of its reach', async () => {
    const program = `function Run(k) {
      if (k === 'caller') return Run.caller;
      if (k === 'this') return typeof this;
      if (k === 'implicit') { leaked = 1; return 'no'; }
      if (k === 'prepare') { Error.prepareStackTrace = (e, s) => s; return 'no'; }
      if (k === 'then') { Promise.prototype.then = () => 'patched'; return 'no'; }
    }`;
    const outcomes = await run(program, ['caller', 'this', 'implicit', 'prepare', 'then']);
    expect(outcomes).toMatchObject([
      {
        ok: false,
        error: { name: 'TypeError', message: expect.stringMatching(/'caller'.*strict mode/) },
      },
      { ok: true, value: 'undefined' },
      {
        ok: false,
        error: { name: 'ReferenceError', message: expect.stringMatching(/^leaked is not defined/) },
      },
      {
        ok: false,
        error: {
          name: 'TypeError',
          message: expect.stringMatching(/read only property 'prepareStackTrace'/),
        },
      },
      {
        ok: false,
        error: { name: 'TypeError', message: expect.stringMatching(/read only property 'then'/) },
      },
    ]);
  });

  it('keeps working for the next chunk after job code patched the globals it could reach', async () => {
    const t = (thread = startThread());
    const program = `function Run(d) {
      Array.prototype.push = () => { throw new Error('patched push'); };
      Array.prototype.shift = () => { throw new Error('patched shift'); };
      String.prototype.includes = () => { throw new Error('patched includes'); };
      JSON.stringify = () => '"patched"';
      JSON.parse = () => [];
      Object.defineProperty(Object.prototype, 'next', { set() { throw new Error('patched next'); }, configurable: true });
      return { d };
    }`;
    t.send({ type: 'load', jobId: 'j', program, args: null });
    const tasks = (from: number) => JSON.stringify([{ index: from, input: from }]);
    t.send({ type: 'run', chunkId: 1, tasks: tasks(1), flushEach: false });
    t.send({ type: 'run', chunkId: 2, tasks: tasks(2), flushEach: false });
    t.send({ type: 'run', chunkId: 3, tasks: tasks(3), flushEach: false });
    for (const chunkId of [1, 2, 3]) {
      expect(await t.outcomes(chunkId)).toMatchObject([
        { jobId: 'j', index: chunkId, ok: true, value: { d: chunkId } },
      ]);
    }
  });

  it('ships a runtime whose protections are all on, and builds weakened ones only on request', () => {
    expect(Object.values(ALL_PROTECTIONS)).toEqual([true, true, true, true, true]);
    expect(Object.isFrozen(ALL_PROTECTIONS)).toBe(true);
    expect(SANDBOX_WORKER_SOURCE.startsWith('"use strict";\n')).toBe(true);
    expect(SANDBOX_WORKER_SOURCE).toBe(threadSource(ALL_PROTECTIONS));
    expect(
      SANDBOX_WORKER_SOURCE.endsWith(
        `, ${JSON.stringify(ALL_PROTECTIONS)}, ${JSON.stringify(OUTCOME_LIMITS)}, ${JSON.stringify(TASK_LIMITS)});`,
      ),
    ).toBe(true);
    expect(threadSource({ ...ALL_PROTECTIONS, strict: false }).startsWith('(')).toBe(true);
  });
});

describe('sandbox thread runtime: outcomes the server would refuse', () => {
  /** Runs `program` on `inputs`; returns the outcomes and checks every flush as a real frame. */
  async function runFramed(program: string, inputs: unknown[]) {
    const outcomes = await run(program, inputs);
    const t = thread!;
    for (const message of t.received) {
      if (message.type !== 'results' || message.count === 0) continue;
      // Each flush must be accepted by the server's own decoder, as one outcomes frame.
      const frame = `{"type":"outcomes","credit":0,"items":[${message.outcomes}]}`;
      expect(() => decodeWorkerToServer(frame)).not.toThrow();
    }
    return outcomes as {
      ok: boolean;
      value?: unknown;
      error?: { name: string; message: string; stack: string };
    }[];
  }

  const nest = (levels: number) =>
    `function Run(d) { let v = d; for (let i = 0; i < ${levels}; i++) v = [v]; return v; }`;

  it('fails a 200-deep result with ResultTooDeep, keeps a 100-deep one', async () => {
    const deep = await runFramed(nest(200), [1]);
    expect(deep[0]).toMatchObject({ ok: false, error: { name: 'ResultTooDeep', stack: '' } });
    expect(deep[0]!.error!.message).toMatch(/nested deeper than 100 levels.*flatten it/);
    const limit = await runFramed(nest(100), [1]);
    expect(limit[0]!.ok).toBe(true);
  });

  it('reads depth outside strings only: brackets inside a string do not count', async () => {
    const outcomes = await runFramed('function Run() { return ["[[[".repeat(100), "\\"{"]; }', [0]);
    expect(outcomes[0]).toMatchObject({ ok: true, value: ['[[['.repeat(100), '"{'] });
  });

  it('fails a 20 MB string result with ResultTooLarge naming both sizes; the next task still runs', async () => {
    const outcomes = await runFramed(
      'function Run(d) { return d === 0 ? "x".repeat(20 * 1024 * 1024) : d; }',
      [0, 1],
    );
    expect(outcomes[0]).toMatchObject({ ok: false, error: { name: 'ResultTooLarge' } });
    expect(outcomes[0]!.error!.message).toBe(
      'Run returned 20 MB of JSON; a result may be at most 15.9 MB (16,711,680 bytes: ' +
        'WORKER_LIMITS.maxFrameBytes less room for the frame around it): ' +
        'return less, or split the task into smaller ones',
    );
    expect(outcomes[1]).toMatchObject({ ok: true, value: 1 });
  });

  it('counts UTF-8 bytes, not characters: 6 Mi euro signs (18 MB) are too large', async () => {
    const outcomes = await runFramed(
      'function Run() { return "\u20ac".repeat(6 * 1024 * 1024); }',
      [0],
    );
    expect(outcomes[0]!.error!.message).toMatch(/^Run returned 18 MB of JSON/);
  });

  it('cuts an error name, message and stack to their limits, with a marker', async () => {
    const outcomes = await runFramed(
      `function Run() {
        const e = new Error("m".repeat(1024 * 1024));
        e.name = "N".repeat(1000);
        e.stack = "s".repeat(1024 * 1024);
        throw e;
      }`,
      [0],
    );
    const error = outcomes[0]!.error!;
    expect(error.name).toHaveLength(200);
    expect(error.name.endsWith('… [cut at 200 chars]')).toBe(true);
    expect(error.message).toHaveLength(65_536);
    expect(error.message.endsWith('mmm… [cut at 65,536 chars]')).toBe(true);
    // The stack is cut far shorter (the cleaned-stack tests below).
    expect(Buffer.byteLength(error.stack)).toBe(4096);
    expect(error.stack.endsWith('s\n    … [stack cut at 4,096 bytes]')).toBe(true);
  });

  it('never cuts a surrogate pair in half', async () => {
    // 65,513 units + a 23-unit marker: the cut falls between the halves of an emoji.
    const outcomes = await runFramed(
      'function Run() { throw new Error("\\u{1F600}".repeat(40000)); }',
      [0],
    );
    const message = outcomes[0]!.error!.message;
    expect(message.length).toBeLessThanOrEqual(65_536);
    expect(message).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('applies the limits it is built with', async () => {
    thread = startThread(threadSource(ALL_PROTECTIONS, { ...OUTCOME_LIMITS, maxResultBytes: 30 }));
    thread.send({ type: 'load', jobId: 'j', program: 'function Run(d) { return d; }', args: null });
    const tasks = [
      { index: 0, input: 'short' },
      { index: 1, input: 'x'.repeat(40) },
    ];
    thread.send({ type: 'run', chunkId: 1, tasks: JSON.stringify(tasks), flushEach: false });
    const outcomes = (await thread.outcomes(1)) as { ok: boolean; error?: { name: string } }[];
    expect(outcomes.map((o) => o.ok)).toEqual([true, false]);
    expect(outcomes[1]!.error!.name).toBe('ResultTooLarge');
    // A batch as large as a result may be is flushed at once, not gathered further.
    expect(thread.received.filter((m) => m.type === 'results')).toHaveLength(2);
  });
});

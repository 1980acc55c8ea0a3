import { LOSSY_VALUES_DIRECTIVE } from '@tabgrid/protocol/faithful-json';
import { decodeWorkerToServer } from '@tabgrid/protocol/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { startThread } from './testing/start-thread.js';

interface Outcome {
  index: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string; stack: string };
}

let thread: ReturnType<typeof startThread> | undefined;
afterEach(() => thread?.close());

/** Runs `program` on `inputs` in a real thread; every flush must decode as a worker frame. */
async function run(program: string, inputs: unknown[]): Promise<Outcome[]> {
  const t = (thread = startThread());
  t.send({ type: 'load', jobId: 'j', program, args: null });
  const tasks = inputs.map((input, index) => ({ index, input }));
  t.send({ type: 'run', chunkId: 1, tasks: JSON.stringify(tasks), flushEach: false });
  const outcomes = (await t.outcomes(1)) as Outcome[];
  for (const m of t.received) {
    if (m.type !== 'results' || m.count === 0) continue;
    const frame = `{"type":"outcomes","credit":0,"items":[${m.outcomes}]}`;
    expect(() => decodeWorkerToServer(frame)).not.toThrow();
  }
  return outcomes;
}

/** One Run returning a value of each kind, by input. */
const KINDS = `function Run(k) {
  if (k === 'date') return { when: new Date(0) };
  if (k === 'nan') return [1, NaN];
  if (k === 'map') return { seen: new Map([['a', 1]]) };
  if (k === 'undefinedKey') return { a: 1, b: undefined };
  if (k === 'nothing') return undefined;
  if (k === 'cycle') { const a = { list: [] }; a.list.push(a); return a; }
  if (k === 'bigint') return { n: 2n };
  if (k === 'plain') return { ok: [1, 'two', null, { three: true }] };
  if (k === 'bytes') return { data: new Uint8Array([1, 2]) };
}`;
const INPUTS = [
  'date',
  'nan',
  'map',
  'undefinedKey',
  'nothing',
  'cycle',
  'bigint',
  'plain',
  'bytes',
];
const LOSSY_ESCAPE =
  ". To convert such values as JSON.stringify does instead, create the job with values: 'lossy'.";

describe('results JSON cannot carry faithfully fail their task, saying where and what to return', () => {
  it('fails a Date, NaN, a Map and an undefined key with the path and the hint; the rest pass', async () => {
    const outcomes = await run(KINDS, INPUTS);
    const byKind = Object.fromEntries(INPUTS.map((k, i) => [k, outcomes[i]]));
    expect(byKind.date).toEqual({
      jobId: 'j',
      index: 0,
      ms: expect.any(Number) as number,
      ok: false,
      error: {
        name: 'TypeError',
        message: 'result.when is a Date: send when.toISOString()' + LOSSY_ESCAPE,
        stack: '',
      },
    });
    expect(byKind.nan?.error?.message).toBe(
      'result[1] is NaN: send null, or a string' + LOSSY_ESCAPE,
    );
    expect(byKind.map?.error?.message).toBe(
      'result.seen is a Map: send Object.fromEntries(seen) or [...seen]' + LOSSY_ESCAPE,
    );
    expect(byKind.undefinedKey?.error?.message).toBe(
      'result.b is undefined: leave the key out, or send null' + LOSSY_ESCAPE,
    );
    // A cycle and a BigInt cannot be converted at all: no lossy escape offered.
    expect(byKind.cycle?.error?.message).toBe(
      'result.list[0] refers back to result (a circular value): send a copy without the cycle.',
    );
    expect(byKind.bigint?.error?.message).toMatch(/^result\.n is a BigInt: send n\.toString\(\)/);
    // A Run that returns nothing settles with null, as before; JSON values and bytes pass.
    expect(byKind.nothing).toMatchObject({ ok: true, value: null });
    expect(byKind.plain).toMatchObject({
      ok: true,
      value: { ok: [1, 'two', null, { three: true }] },
    });
    expect(byKind.bytes).toMatchObject({
      ok: true,
      value: { data: { '$tabgrid.bytes': 'Uint8Array', base64: 'AQI=' } },
    });
  });

  it('is not fooled by job code patching the globals the check uses', async () => {
    const program = `Object.keys = () => []; Array.isArray = () => false;
      Object.getPrototypeOf = () => Object.prototype; ArrayBuffer.isView = () => true;
      function Run() { return { list: [new Date(0)] }; }`;
    const [outcome] = await run(program, [0]);
    expect(outcome?.error?.message).toMatch(
      /^result\.list\[0\] is a Date: send result\.list\[0\]\.toISOString\(\)/,
    );
  });
  it('hands job code no runtime object through setters on the prototypes', async () => {
    // Setters for every index and field the check writes: they would see the runtime's
    // lists and fault records, were those ordinary arrays and objects.
    const program = `let seen = '';
      for (const key of ['0', '1', '2', 'length', 'what', 'hint', 'keys', 'deep', 'message']) {
        for (const proto of [Array.prototype, Object.prototype]) {
          try {
            Object.defineProperty(proto, key, { set() { seen += key + ' '; }, configurable: true });
          } catch {} // Array.prototype.length is not configurable
        }
      }
      function Run(i) { return i === 0 ? { a: [{ b: new Date(0) }] } : seen; }`;
    const outcomes = await run(program, [0, 1]);
    expect(outcomes[0]?.error?.message).toMatch(/^result\.a\[0\]\.b is a Date/);
    expect(outcomes[1]).toMatchObject({ ok: true, value: '' });
  });
});

describe("values: 'lossy' (the program's directive) keeps JSON.stringify's conversion", () => {
  it('converts a Date, NaN, a Map and an undefined key as before', async () => {
    const outcomes = await run(LOSSY_VALUES_DIRECTIVE + ' ' + KINDS, INPUTS);
    const byKind = Object.fromEntries(INPUTS.map((k, i) => [k, outcomes[i]]));
    expect(byKind.date).toMatchObject({ ok: true, value: { when: '1970-01-01T00:00:00.000Z' } });
    expect(byKind.nan).toMatchObject({ ok: true, value: [1, null] });
    expect(byKind.map).toMatchObject({ ok: true, value: { seen: {} } });
    expect(byKind.undefinedKey).toMatchObject({ ok: true, value: { a: 1 } });
    expect(byKind.undefinedKey?.value).toEqual({ a: 1 });
    expect(byKind.nothing).toMatchObject({ ok: true, value: null });
    expect(byKind.bytes).toMatchObject({ ok: true });
  });

  it('still fails a cycle and a BigInt with the path, never a stack overflow', async () => {
    const outcomes = await run(LOSSY_VALUES_DIRECTIVE + ' ' + KINDS, ['cycle', 'bigint']);
    expect(outcomes[0]?.error?.message).toBe(
      'result.list[0] refers back to result (a circular value): send a copy without the cycle.',
    );
    expect(outcomes[1]?.error?.message).toMatch(/^result\.n is a BigInt/);
  });

  it('counts only as the first statement of the program', async () => {
    const [outcome] = await run(
      'function Run() { return new Date(0); }\n' + LOSSY_VALUES_DIRECTIVE,
      [0],
    );
    expect(outcome?.error?.message).toMatch(/^result is a Date/);
  });
});

/**
 * The pieces of the pool that need no server: imap's submit gate and range table, the star()
 * program wrapper (run as the worker runs a program), and mapAsync's handle on fake timers.
 * The verbs end to end, against a real server and workers, are in
 * packages/fleet/src/sdk-pool.test.ts and e2e/tests/sdk-verbs.spec.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '@tabgrid/protocol/errors';
import type { Job } from '../job.js';
import { starProgramSource } from '../program-source.js';
import { MapHandle } from './map-handle.js';
import { Pool } from './pool.js';
import { RangeTable } from './ordered.js';
import { SubmitGate } from './submit-gate.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Runs a program as the worker page does: its text as a function body that returns Run. */
function runOf(source: string): (input: unknown, args: unknown) => unknown {
  // Our own test program, compiled as the worker page compiles a job's (a function body).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call
  const [run] = new Function(
    'args',
    `${source}\n;return [typeof Run === "function" ? Run : undefined];`,
  )(null) as [(input: unknown, args: unknown) => unknown];
  return run;
}

describe('SubmitGate', () => {
  it('admits positions below next + window and holds the rest until the consumer advances', async () => {
    const gate = new SubmitGate(3);
    const pulled: number[] = [];
    function* tasks() {
      for (let i = 0; i < 10; i++) {
        pulled.push(i);
        yield i;
      }
    }
    const gated = gate.gated(tasks());
    const got: number[] = [];
    const reading = (async () => {
      for await (const t of gated) got.push(t);
    })();
    for (let i = 0; i < 20; i++) await Promise.resolve();
    // Positions 0, 1, 2 went; 3 waits, and is not even taken from the source.
    expect(got).toEqual([0, 1, 2]);
    expect(pulled).toEqual([0, 1, 2]);
    gate.advance(1);
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(got).toEqual([0, 1, 2, 3]);
    gate.advance(10);
    await reading;
    expect(got).toHaveLength(10);
  });
});

describe('RangeTable', () => {
  it('maps input positions to job indexes through ranges acknowledged in any order', () => {
    const table = new RangeTable();
    table.add({ offset: 2, firstIndex: 10, count: 3 });
    expect(table.indexOf(0)).toBeUndefined();
    table.add({ offset: 0, firstIndex: 20, count: 2 });
    expect([0, 1, 2, 3, 4].map((p) => table.indexOf(p))).toEqual([20, 21, 10, 11, 12]);
    expect(table.indexOf(5)).toBeUndefined();
  });

  it('wakes a waiter when a range arrives', async () => {
    const table = new RangeTable();
    const arrived = table.nextRange();
    table.add({ offset: 0, firstIndex: 0, count: 1 });
    await expect(arrived).resolves.toBeUndefined();
  });
});

describe('star() program source', () => {
  it('spreads each task over Run’s parameters; args come last only when the pool has them', () => {
    const plain = runOf(starProgramSource((a: number, b: number) => a ** b, false));
    expect(plain([2, 3], null)).toBe(8);
    const variadic = runOf(
      starProgramSource((...xs: number[]) => xs.reduce((s, x) => s + x, 0), false),
    );
    expect(variadic([1, 2, 3], null)).toBe(6); // no trailing null among the numbers
    const withArgs = runOf(
      starProgramSource((a: number, b: number, args: { k: number }) => (a + b) * args.k, true),
    );
    expect(withArgs([1, 2], { k: 10 })).toBe(30);
  });

  it('wraps a source program that defines function Run', () => {
    const run = runOf(starProgramSource('function Run(a, b) { return a - b }', false));
    expect(run([5, 3], null)).toBe(2);
  });

  it('fails a task that is not an array with a message saying what to send', () => {
    const run = runOf(starProgramSource((a: number) => a, false));
    expect(() => run(7, null)).toThrow(/each task must be an array of Run's arguments, got number/);
  });
});

describe('MapHandle (mapAsync)', () => {
  function handle() {
    let resolve!: (values: number[]) => void;
    let reject!: (error: Error) => void;
    const result = new Promise<number[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const job = { id: 'j-1' } as Job<number>;
    const abort = new AbortController();
    return {
      h: new MapHandle<number>(result, Promise.resolve(job), abort),
      resolve,
      reject,
      abort,
    };
  }

  it('is not ready while running; wait() resolves with ready(); get() gives the values', async () => {
    const { h, resolve } = handle();
    expect(h.ready()).toBe(false);
    expect(() => h.successful()).toThrow(/still running/);
    resolve([1, 4, 9]);
    expect(await h.wait()).toBe(true);
    expect(h.ready()).toBe(true);
    expect(h.successful()).toBe(true);
    expect(await h.get()).toEqual([1, 4, 9]);
    expect((await h.job()).id).toBe('j-1');
  });

  it('get({ timeoutMs }) rejects with TG_ERR_WAIT_TIMEOUT naming the job; a later get() still works', async () => {
    vi.useFakeTimers();
    const { h, resolve } = handle();
    const got = h.get({ timeoutMs: 1000 });
    const expectation = expect(got).rejects.toMatchObject({
      code: ErrorCode.WAIT_TIMEOUT,
      message: expect.stringMatching(/waited 1000 ms.*job j-1 is running.*get\(\) again/),
    });
    await vi.advanceTimersByTimeAsync(1000);
    await expectation;
    const waited = h.wait({ timeoutMs: 500 });
    await vi.advanceTimersByTimeAsync(500);
    expect(await waited).toBe(false);
    resolve([2]);
    expect(await h.get({ timeoutMs: 1000 })).toEqual([2]);
  });

  it('a failed call: wait() resolves, successful() is false, get() rejects with its error', async () => {
    const { h, reject } = handle();
    reject(new Error('task 3 failed'));
    expect(await h.wait()).toBe(true);
    expect(h.successful()).toBe(false);
    await expect(h.get()).rejects.toThrow('task 3 failed');
  });

  it('cancel() aborts the call’s signal', async () => {
    const { h, reject, abort } = handle();
    abort.signal.addEventListener('abort', () => reject(new Error('aborted')));
    await h.cancel();
    expect(abort.signal.aborted).toBe(true);
    await expect(h.get()).rejects.toThrow('aborted');
  });
});

describe('pool options are bounded before a job is created', () => {
  it('imap refuses a window that is not a positive integer; get() a timeout that is not a time', async () => {
    const created: unknown[] = [];
    const creator = {
      createJob: (spec: unknown) => {
        created.push(spec);
        return Promise.reject(new Error('not in this test'));
      },
    };
    const pool = new Pool(creator, (x: number) => x);
    expect(() => pool.imap([1], { window: Number.NaN })).toThrow(/window.*integer ≥ 1, got NaN/);
    expect(() => pool.imap([1], { window: 0 })).toThrow(/window/);
    const h = new MapHandle<number>(
      new Promise(() => undefined),
      new Promise(() => undefined),
      new AbortController(),
    );
    await expect(h.get({ timeoutMs: -5 })).rejects.toThrow(/timeoutMs.*≥ 0, got -5/);
    expect(created).toEqual([]);
  });
});

describe('SubmitGate.close', () => {
  it('ends a submission waiting for room and stops its source', async () => {
    const gate = new SubmitGate(1);
    let stopped = false;
    function* tasks() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        stopped = true;
      }
    }
    const got: number[] = [];
    const reading = (async () => {
      for await (const t of gate.gated(tasks())) got.push(t);
    })();
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(got).toEqual([0]);
    gate.close();
    await reading;
    expect(got).toEqual([0]);
    expect(stopped).toBe(true);
  });
});

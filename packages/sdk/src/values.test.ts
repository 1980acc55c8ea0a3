/**
 * Say, don't coerce, on the submit side: tasks and args JSON cannot carry faithfully are refused
 * before anything is sent, against a real socket.io server that records every request.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { LOSSY_VALUES_DIRECTIVE } from '@tabgrid/protocol/faithful-json';
import type { JobInfo } from '@tabgrid/protocol/jobs';
import { Tabgrid, type TabgridOptions } from './client.js';
import { programWithValues } from './values.js';

let http: HttpServer;
let io: Server;
let url: string;
/** Every request payload, per name, in arrival order. */
let seen: Record<string, Record<string, unknown>[]>;
const clients: Tabgrid[] = [];

const AT = '2026-12-01T18:00:00.000Z';
const INFO: JobInfo = {
  id: 'j1',
  name: 'n',
  group: null,
  state: 'open',
  total: 0,
  finished: 0,
  failed: 0,
  inFlight: 0,
  queued: 0,
  computeMs: 0,
  created: AT,
  modified: AT,
  lastResult: null,
  timeoutMs: 60_000,
  maxAttempts: 3,
  retryErrors: 0,
  redundancy: 1,
  maxReplicas: 3,
  disagreements: 0,
  priority: 0,
  paused: null,
};

beforeEach(async () => {
  seen = {};
  let next = 0;
  http = createServer();
  io = new Server(http);
  io.on('connection', (socket) => {
    socket.onAny((event: string, payload: Record<string, unknown>, ack: (a: unknown) => void) => {
      (seen[event] ??= []).push(payload);
      if (event === 'job:create') ack({ ok: true, data: INFO });
      if (event === 'job:submit') {
        const count = (payload.tasks as unknown[]).length;
        ack({ ok: true, data: { firstIndex: next, count } });
        next += count;
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  await new Promise<void>((resolve) => {
    void io.close(() => resolve());
  });
});

function client(options: TabgridOptions = {}): Tabgrid {
  const tg = new Tabgrid({ url, token: 't', timeoutMs: 5000, connectTimeoutMs: 5000, ...options });
  clients.push(tg);
  return tg;
}

const LOSSY_ESCAPE =
  ". To convert such values as JSON.stringify does instead, create the job with values: 'lossy'.";

describe('submit refuses tasks JSON cannot carry faithfully, before sending', () => {
  it('refuses an array with a Date anywhere in it: no batch is sent', async () => {
    const tasks = [1, 2, 3, { when: new Date(0) }, 5];
    await expect(client().job('j1').submit(tasks)).rejects.toMatchObject({
      code: ErrorCode.UNFAITHFUL_VALUE,
      message: 'tasks[3].when is a Date: send when.toISOString()' + LOSSY_ESCAPE,
    });
    expect(seen['job:submit']).toBeUndefined();
  });

  it('refuses each kind with its path (NaN, undefined, a Map, a cycle, a BigInt)', async () => {
    const job = client().job('j1');
    const cyclic: Record<string, unknown> = { id: 1 };
    cyclic.self = cyclic;
    const cases: Array<[unknown, RegExp]> = [
      [{ x: NaN }, /^tasks\[0\]\.x is NaN/],
      [undefined, /^tasks\[0\] is undefined: send null/],
      [[1, undefined], /^tasks\[0\]\[1\] is undefined/],
      [{ m: new Map() }, /^tasks\[0\]\.m is a Map/],
      [cyclic, /^tasks\[0\]\.self refers back to tasks\[0\] \(a circular value\)/],
      [{ n: 5n }, /^tasks\[0\]\.n is a BigInt: send n\.toString\(\)/],
    ];
    for (const [task, message] of cases) {
      await expect(job.submit([task])).rejects.toMatchObject({
        code: ErrorCode.UNFAITHFUL_VALUE,
        message: expect.stringMatching(message) as string,
      });
    }
    expect(seen['job:submit']).toBeUndefined();
  });

  it('checks a generator as it is pulled: the batch holding the bad task is never sent', async () => {
    function* tasks() {
      for (let i = 0; i < 25; i++) yield i === 22 ? { at: -Infinity } : i;
    }
    const tg = client({ batch: { maxTasks: 10 } });
    await expect(tg.job('j1').submit(tasks())).rejects.toMatchObject({
      code: ErrorCode.UNFAITHFUL_VALUE,
      message: expect.stringMatching(/^tasks\[22\]\.at is -Infinity/) as string,
    });
    const sent = (seen['job:submit'] ?? []).flatMap((b) => b.tasks as unknown[]);
    expect(sent).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('lets JSON values and bytes through', async () => {
    const tasks = [{ a: [1, 'b', null] }, new Float64Array([1.5]), 'x'];
    await expect(client().job('j1').submit(tasks)).resolves.toEqual({ count: 3, firstIndex: 0 });
    expect(seen['job:submit']).toHaveLength(1);
  });
});

describe('createJob refuses args JSON cannot carry faithfully', () => {
  it('names args and the path, and creates nothing (a BigInt no longer a bare TypeError)', async () => {
    const tg = client();
    await expect(
      tg.createJob({ program: (d: number) => d, args: { big: 2n ** 70n } }),
    ).rejects.toMatchObject({
      code: ErrorCode.UNFAITHFUL_VALUE,
      message: 'args.big is a BigInt: send big.toString(), or Number(big) when it is below 2^53.',
    });
    await expect(
      tg.createJob({ program: (d: number) => d, args: { since: new Date(0) } }),
    ).rejects.toThrow(/^args\.since is a Date: send since\.toISOString\(\)/);
    expect(seen['job:create']).toBeUndefined();
  });
});

describe("values: 'lossy' keeps JSON.stringify's conversion", () => {
  it('per job: sends the Date task and args, and marks the program for the threads', async () => {
    const tg = client();
    const job = await tg.createJob({
      program: (d: number) => d,
      args: { since: new Date(0), missing: undefined },
      values: 'lossy',
    });
    await job.submit([{ when: new Date(0) }, NaN]);
    const created = seen['job:create']?.[0];
    expect(created?.program).toBe(`${LOSSY_VALUES_DIRECTIVE} var Run = ((d) => d);`);
    expect(created).not.toHaveProperty('values'); // the mode travels in the program only
    expect(created?.args).toEqual({ since: '1970-01-01T00:00:00.000Z' });
    expect(seen['job:submit']?.[0]?.tasks).toEqual([{ when: '1970-01-01T00:00:00.000Z' }, null]);
    // A strict job of the same client still refuses.
    const strict = await tg.createJob({ program: (d: number) => d });
    await expect(strict.submit([NaN])).rejects.toMatchObject({ code: ErrorCode.UNFAITHFUL_VALUE });
  });

  it('per client: job handles and new jobs follow it; a job may still ask for strict', async () => {
    const tg = client({ values: 'lossy' });
    await tg.job('j1').submit([{ when: new Date(0) }]);
    expect(seen['job:submit']).toHaveLength(1);
    const strict = await tg.createJob({ program: (d: number) => d, values: 'strict' });
    expect(seen['job:create']?.[0]?.program).toBe('var Run = ((d) => d);');
    await expect(strict.submit([{ m: new Set() }])).rejects.toThrow(/^tasks\[0\]\.m is a Set/);
  });

  it('still refuses what JSON.stringify cannot convert at all, saying so', async () => {
    const tg = client({ values: 'lossy' });
    await expect(tg.job('j1').submit([{ n: 1n }])).rejects.toMatchObject({
      code: ErrorCode.UNFAITHFUL_VALUE,
      message: 'tasks[0].n is a BigInt: send n.toString(), or Number(n) when it is below 2^53.',
    });
  });

  it('writes the directive once, on the program’s first line', () => {
    const once = programWithValues('function Run(d) {\n  return d;\n}', 'lossy');
    expect(once).toBe(`${LOSSY_VALUES_DIRECTIVE} function Run(d) {\n  return d;\n}`);
    expect(programWithValues(once, 'lossy')).toBe(once);
    expect(programWithValues('function Run() {}', 'strict')).toBe('function Run() {}');
  });
});

/**
 * Binary payloads at scale (issue #18), in real tabs: 2,000 tasks whose inputs and results each
 * hold three typed arrays of different kinds, submitted in batches of hundreds of attachments
 * (socket.io's parser takes 10 by default), every byte checked by hash on the SDK and on REST.
 */
import { createHash } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { Tabgrid } from '@tabgrid/sdk';
import { gridPerTest } from '../support/grid.js';

const grid = gridPerTest();

const TASKS = 2000;

/** Deterministic bytes for task `i` (no Math.random: the test must be the same every run). */
function taskInput(i: number): { i: number; f: Float32Array; b: Uint8Array; w: BigInt64Array } {
  const f = new Float32Array(48 + (i % 17));
  for (let k = 0; k < f.length; k++) f[k] = Math.sin(i * 31 + k) * 1e3;
  const b = new Uint8Array(90 + (i % 29));
  for (let k = 0; k < b.length; k++) b[k] = (i * 7 + k * 13) & 0xff;
  const w = new BigInt64Array(8 + (i % 5));
  for (let k = 0; k < w.length; k++) w[k] = BigInt(i) * -(2n ** 40n) + BigInt(k);
  return { i, f, b, w };
}

/**
 * Run in the tab: each result array is made from an input array's bytes, so the result shows
 * the tab saw every input byte as sent. `sums` are byte sums the tab computed of the inputs.
 */
const program = `function Run(t) {
  const bytes = (v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const sum = (v) => bytes(v).reduce((a, x) => a + x, 0);
  return {
    i: t.i,
    kinds: [t.f.constructor.name, t.b.constructor.name, t.w.constructor.name],
    sums: [sum(t.f), sum(t.b), sum(t.w)],
    f64: Float64Array.from(t.f),
    rev: Int8Array.from(bytes(t.b)).reverse(),
    u16: new Uint16Array(t.w.buffer.slice(t.w.byteOffset, t.w.byteOffset + t.w.byteLength)),
  };
}`;

type View = ArrayBufferView;
function bytesOf(v: View): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}
function hash(...views: View[]): string {
  const h = createHash('sha256');
  for (const v of views) h.update(bytesOf(v));
  return h.digest('hex');
}
function byteSum(v: View): number {
  return bytesOf(v).reduce((a, x) => a + x, 0);
}

/** The hash the result of task `i` must have: computed here from its input. */
function expectedHash(i: number): string {
  const { f, b, w } = taskInput(i);
  return hash(Float64Array.from(f), Int8Array.from(b).reverse(), new Uint16Array(w.buffer));
}

interface Result {
  i: number;
  kinds: string[];
  sums: number[];
  f64: Float64Array;
  rev: Int8Array;
  u16: Uint16Array;
}

/** A REST (text form) bytes tag → its bytes (none when it is not a tag of that kind). */
function tagBytes(tag: unknown, kind: string): Uint8Array {
  const t = tag as { '$tabgrid.bytes'?: unknown; base64?: unknown };
  if (t['$tabgrid.bytes'] !== kind || typeof t.base64 !== 'string') return new Uint8Array(0);
  return new Uint8Array(Buffer.from(t.base64, 'base64'));
}

test('2,000 tasks of three typed arrays each round-trip every byte, on the SDK and on REST', async () => {
  test.setTimeout(240_000);
  await grid.openTab('?threads=2');
  // 500 tasks a batch: 1,500 attachments in one job:submit, far over socket.io's default of 10.
  const tg = new Tabgrid({
    url: grid.url,
    token: grid.token,
    batch: { maxTasks: 500, maxBytes: 4 << 20 },
  });
  const job = await tg.createJob({ program, name: 'binary-payloads' });
  const inputs = Array.from({ length: TASKS }, (_, i) => taskInput(i));
  const submitted = await job.submit(inputs);
  expect(submitted.count).toBe(TASKS);
  await job.close();

  // Checked after the loop, in plain code: an expect() per value would slow the stream down.
  const values = new Map<number, Result>();
  for await (const out of job.results()) values.set(out.index, out.value as Result);
  expect(values.size).toBe(TASKS);
  const problems: string[] = [];
  const sdkHashes = new Map<number, string>();
  for (const [index, r] of values) {
    const { f, b, w } = taskInput(index);
    const sums = [byteSum(f), byteSum(b), byteSum(w)];
    if (r.i !== index) problems.push(`task ${index}: i is ${r.i}`);
    if (r.kinds.join() !== 'Float32Array,Uint8Array,BigInt64Array') {
      problems.push(`task ${index}: the tab saw ${r.kinds.join()}`);
    }
    if (r.sums.join() !== sums.join())
      problems.push(`task ${index}: the tab summed ${r.sums.join()}`);
    if (
      !(r.f64 instanceof Float64Array) ||
      !(r.rev instanceof Int8Array) ||
      !(r.u16 instanceof Uint16Array)
    ) {
      problems.push(`task ${index}: result kinds lost`);
    }
    sdkHashes.set(index, hash(r.f64, r.rev, r.u16));
    if (sdkHashes.get(index) !== expectedHash(index)) problems.push(`task ${index}: bytes differ`);
  }
  expect(problems).toEqual([]);

  // REST reads the same outcomes in the documented JSON form: the same bytes, by hash.
  const response = await fetch(`${grid.url}/api/jobs/${job.id}/results?meta`, {
    headers: { authorization: `Bearer ${grid.token}` },
  });
  expect(response.status).toBe(200);
  const lines = (await response.text()).split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(TASKS);
  const restProblems: string[] = [];
  for (const line of lines) {
    const { index, value } = JSON.parse(line) as { index: number; value: Record<string, unknown> };
    const restHash = hash(
      tagBytes(value.f64, 'Float64Array'),
      tagBytes(value.rev, 'Int8Array'),
      tagBytes(value.u16, 'Uint16Array'),
    );
    if (restHash !== sdkHashes.get(index)) restProblems.push(`task ${index} differs over REST`);
  }
  expect(restProblems).toEqual([]);
  await tg.close();
});

import { afterEach, describe, expect, it } from 'vitest';
import { OUTCOME_LIMITS } from './outcome-limits.js';
import type { ThreadToPage } from './sandbox-protocol.js';
import { ALL_PROTECTIONS, threadSource } from './thread-source.js';
import { startThread, type StartedThread } from './testing/start-thread.js';

type Results = Extract<ThreadToPage, { type: 'results' }>;

// Issue 18 in the thread: typed arrays arrive cloned as they are and leave as attachments.
let thread: StartedThread | undefined;
afterEach(() => thread?.close());

async function runAttached(program: string, inputs: unknown[], source?: string) {
  thread = startThread(source);
  thread.send({ type: 'load', jobId: 'job-1', program, args: null });
  const tasks = inputs.map((input, index) => ({ index, input }));
  thread.send({ type: 'run', chunkId: 1, tasks, flushEach: false, attach: true });
  await thread.outcomes(1);
  return thread.received.filter((m): m is Results => m.type === 'results');
}

/** The values of one results message, the attached tags turned back into typed arrays. */
function valuesOf(message: Results): unknown[] {
  const bytes = new Uint8Array(
    (message.attachments ?? []).reduce((sum, buffer) => sum + buffer.byteLength, 0),
  );
  let at = 0;
  for (const buffer of message.attachments ?? []) {
    bytes.set(new Uint8Array(buffer), at);
    at += buffer.byteLength;
  }
  const outcomes = JSON.parse(`[${message.outcomes}]`, (_key, value: unknown) => {
    const tag = value as { '$tabgrid.bytes'?: string; at?: number; length?: number } | null;
    if (typeof tag !== 'object' || tag === null || tag['$tabgrid.bytes'] === undefined)
      return value;
    const slice = bytes.slice(tag.at, (tag.at ?? 0) + (tag.length ?? 0)).buffer;
    return tag['$tabgrid.bytes'] === 'Float64Array'
      ? new Float64Array(slice)
      : new Uint8Array(slice);
  }) as { value?: unknown }[];
  return outcomes.map((outcome) => outcome.value);
}

describe('typed arrays between page and thread', () => {
  it('takes inputs with typed arrays as they are and returns results as attachments', async () => {
    const program = `function Run({ v, n }) {
      return { doubled: v.map((x) => x * 2), n, raw: new Uint8Array([n, n + 1]) };
    }`;
    const inputs = [1, 2].map((n) => ({ v: new Float64Array([n, n / 3]), n }));
    const [message] = await runAttached(program, inputs);
    expect(message!.outcomes).not.toContain('base64');
    expect(message!.outcomes).toContain('{"$tabgrid.bytes":"Float64Array","at":0,"length":16}');
    // Two tasks, two typed arrays each: four buffers of their own, laid end to end.
    expect(message!.attachments?.map((buffer) => buffer.byteLength)).toEqual([16, 2, 16, 2]);
    expect(valuesOf(message!)).toEqual([
      { doubled: new Float64Array([2, 2 / 3]), n: 1, raw: new Uint8Array([1, 2]) },
      { doubled: new Float64Array([4, 4 / 3]), n: 2, raw: new Uint8Array([2, 3]) },
    ]);
  });

  it('copies what it attaches: a result the job keeps and changes later is sent as it was', async () => {
    const program = `const kept = new Float64Array(1);
      function Run(i) { kept[0] = i; return kept; }`;
    const [message] = await runAttached(program, [5, 6]);
    expect(valuesOf(message!)).toEqual([new Float64Array([5]), new Float64Array([6])]);
  });

  it('counts attached bytes toward the result limit, and sends a refused result no bytes', async () => {
    const source = threadSource(ALL_PROTECTIONS, { ...OUTCOME_LIMITS, maxResultBytes: 3000 });
    const program = `function Run(n) { return new Uint8Array(n); }`;
    const messages = await runAttached(program, [100, 5000, 50], source);
    const outcomes = messages.flatMap((m) => JSON.parse(`[${m.outcomes}]`) as { ok: boolean }[]);
    expect(outcomes).toMatchObject([
      { ok: true },
      {
        ok: false,
        error: { name: 'ResultTooLarge', message: expect.stringMatching(/typed arrays/) },
      },
      { ok: true },
    ]);
    const sizes = messages.flatMap((m) => m.attachments?.map((b) => b.byteLength) ?? []);
    expect(sizes).toEqual([100, 50]);
    // One message: the refused result's bytes were dropped, so the third's follow the first's.
    expect(messages).toHaveLength(1);
    expect(messages[0]!.outcomes).toContain('"at":100,"length":50');
  });

  it('ends a message before a result that would make it outgrow a frame', async () => {
    const source = threadSource(ALL_PROTECTIONS, { ...OUTCOME_LIMITS, maxResultBytes: 2000 });
    const program = `function Run() { return new Uint8Array(600); }`;
    const messages = await runAttached(program, [0, 1, 2, 3, 4], source);
    for (const message of messages) {
      const attached = (message.attachments ?? []).reduce((sum, b) => sum + b.byteLength, 0);
      expect(message.outcomes.length * 3 + attached).toBeLessThanOrEqual(2000);
      // Every message's tags start at its own attachments' start.
      if (message.count > 0) expect(message.outcomes).toContain('"at":0,');
    }
    expect(messages.reduce((sum, m) => sum + m.count, 0)).toBe(5);
    expect(messages.length).toBeGreaterThan(1);
  });
});

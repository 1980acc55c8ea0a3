import { decodeWorkerToServer } from '@tabgrid/protocol/worker';
import { afterEach, describe, expect, it } from 'vitest';
import type { ThreadToPage } from './sandbox-protocol.js';
import { startThread, type StartedThread } from './testing/start-thread.js';

// The thread here is a V8 context without navigator.gpu: a tab that claimed WebGPU at hello
// and whose job thread cannot produce a device. Real devices are e2e's (volunteer-webgpu.spec).
let thread: StartedThread | undefined;
afterEach(() => thread?.close());

function run(program: string, inputs: unknown[], webgpu: boolean) {
  thread = startThread();
  thread.send({ type: 'load', jobId: 'job-1', program, args: null, webgpu });
  const tasks = inputs.map((input, index) => ({ index, input }));
  thread.send({ type: 'run', chunkId: 1, tasks: JSON.stringify(tasks), flushEach: false });
  return thread.outcomes(1);
}

/** The outcomes as the server would read them (the page forwards them as they are). */
function asServerReads(outcomes: unknown[]) {
  const frame = decodeWorkerToServer(
    JSON.stringify({ type: 'outcomes', credit: 0, items: outcomes }),
  );
  if (frame.type !== 'outcomes') throw new Error('not an outcomes frame');
  return frame.items;
}

describe('tabgrid.gpu()', () => {
  it('refuses a job that did not require WebGPU, with a code and what to set', async () => {
    const program = `async function Run() {
      try { await tabgrid.gpu(); return 'got a device'; }
      catch (e) { return [e.name, e.code, e.message]; }
    }`;
    const [outcome] = await run(program, [0], false);
    expect(outcome).toMatchObject({ ok: true });
    const [name, code, message] = (outcome as { value: string[] }).value;
    expect(name).toBe('GpuNotRequired');
    expect(code).toBe('TG_ERR_GPU_NOT_REQUIRED');
    expect(message).toMatch(/^TG_ERR_GPU_NOT_REQUIRED: .*requirements: \{ webgpu: true \}/);
  });

  it('fails, as a failed Setup, every attempt of a thread that cannot produce a device', async () => {
    // Task 0 asks for the device and even catches the error; tasks 1 and 2 never run.
    const program = `let ran = 0;
      async function Run(i) {
        ran++;
        if (i === 0) { try { await tabgrid.gpu(); } catch (e) { return 'fell back to JS'; } }
        return ran;
      }`;
    const outcomes = asServerReads(await run(program, [0, 1, 2], true));
    expect(outcomes).toHaveLength(3);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        ok: false,
        ms: 0,
        error: {
          name: 'GpuUnavailable',
          message: expect.stringMatching(/^TG_ERR_GPU_UNAVAILABLE: .*no navigator\.gpu/),
          phase: 'setup',
        },
      });
    }
  });

  it('asks again in the next chunk: a task that needs no device then runs', async () => {
    const program = `async function Run(i) { if (i === 0) await tabgrid.gpu(); return i; }`;
    const first = await run(program, [0, 1], true);
    expect(first).toMatchObject([
      { ok: false, error: { phase: 'setup' } },
      { ok: false, error: { phase: 'setup' } },
    ]);
    thread!.send({ type: 'run', chunkId: 2, tasks: '[{"index":1,"input":1}]', flushEach: false });
    expect(await thread!.outcomes(2)).toMatchObject([{ index: 1, ok: true, value: 1 }]);
  });

  it('fails the thread whose Setup could not get a device, even if Setup caught it', async () => {
    thread = startThread();
    const program = `async function Setup() { try { await tabgrid.gpu(); } catch {} }
      function Run(i) { return i; }`;
    thread.send({ type: 'load', jobId: 'job-1', program, args: null, webgpu: true });
    thread.send({ type: 'run', chunkId: 1, tasks: '[{"index":4,"input":4}]', flushEach: false });
    const outcomes = await thread.outcomes(1);
    const setup = thread.received.find(
      (m): m is Extract<ThreadToPage, { type: 'setup' }> => m.type === 'setup',
    );
    expect(setup?.ok).toBe(false);
    expect(outcomes).toMatchObject([
      { index: 4, ok: false, error: { name: 'GpuUnavailable', phase: 'setup' } },
    ]);
  });

  it('costs a job that does not touch it nothing: its tasks run as before', async () => {
    const outcomes = await run('function Run(i) { return i * 2; }', [1, 2], true);
    expect(outcomes).toMatchObject([
      { ok: true, value: 2 },
      { ok: true, value: 4 },
    ]);
  });
});

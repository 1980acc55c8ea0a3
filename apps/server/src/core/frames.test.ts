import { fromSocketForm } from '@tabgrid/protocol/bytes';
import { packValue } from '@tabgrid/protocol/packed-value';
import { describe, expect, it } from 'vitest';
import { decodeServerToWorker } from '@tabgrid/protocol/worker';
import {
  cancelFrame,
  jobFrame,
  limitFrame,
  messagesFrame,
  tasksFrames,
  welcomeFrame,
} from './frames.js';

describe('server → worker frames', () => {
  it('are valid ServerToWorker messages', () => {
    expect(decodeServerToWorker(welcomeFrame('w1'))).toMatchObject({
      type: 'welcome',
      workerId: 'w1',
    });
    expect(
      decodeServerToWorker(
        jobFrame('j"1', { program: 'function Run(d){return "x"}', argsJson: '{"a":[1]}' }, 500),
      ),
    ).toEqual({
      type: 'job',
      jobId: 'j"1',
      program: 'function Run(d){return "x"}',
      args: { a: [1] },
      timeoutMs: 500,
      setupTimeoutMs: 500, // Setup's bound defaults to the task's
    });
    expect(decodeServerToWorker(cancelFrame('j1'))).toEqual({ type: 'cancel', jobId: 'j1' });
  });

  it("carry the job's requirements when it has some (the page allows tabgrid.gpu() by them)", () => {
    const code = { program: 'function Run(d){return d}', argsJson: 'null' };
    const needs = { webgpu: true, minThreads: 2 } as const;
    expect(
      decodeServerToWorker(jobFrame('j1', code, 500, 500, null, undefined, needs)),
    ).toMatchObject({ requirements: needs });
    expect(decodeServerToWorker(jobFrame('j1', code, 500))).not.toHaveProperty('requirements');
  });

  it('carry the task model: Setup and progress timeouts, cancel reasons, messages, limits', () => {
    const code = { program: 'function Run(d){return d}', argsJson: 'null' };
    expect(decodeServerToWorker(jobFrame('j1', code, 500, 2000, 1000))).toMatchObject({
      timeoutMs: 500,
      setupTimeoutMs: 2000,
      progressTimeoutMs: 1000,
    });
    expect(decodeServerToWorker(jobFrame('j1', code, 500, 2000, null))).not.toHaveProperty(
      'progressTimeoutMs',
    );
    expect(decodeServerToWorker(cancelFrame('j1', 'done'))).toEqual({
      type: 'cancel',
      jobId: 'j1',
      reason: 'done',
    });
    expect(
      decodeServerToWorker(
        messagesFrame('j1', [
          { seq: 1, data: '{"go":1}' },
          { seq: 2, data: '"a,b"' },
        ]),
      ),
    ).toEqual({
      type: 'messages',
      jobId: 'j1',
      items: [
        { seq: 1, data: { go: 1 } },
        { seq: 2, data: 'a,b' },
      ],
    });
    expect(decodeServerToWorker(limitFrame('j1', 256))).toEqual({
      type: 'limit',
      jobId: 'j1',
      what: 'series',
      maxBytes: 256,
    });
  });

  it('carry raw JSON inputs unchanged', () => {
    const frames = tasksFrames('j1', [
      { index: 0, input: '{"x":"a,b"}' },
      { index: 7, input: '[1,2]' },
      { index: 8, input: 'null' },
    ]);
    expect(frames).toHaveLength(1);
    expect(typeof frames[0]).toBe('string');
    expect(decodeServerToWorker(frames[0])).toEqual({
      type: 'tasks',
      jobId: 'j1',
      items: [
        { index: 0, input: { x: 'a,b' } },
        { index: 7, input: [1, 2] },
        { index: 8, input: null },
      ],
    });
  });

  it('lay packed inputs (typed arrays) into one binary frame the worker decodes to the same bytes', () => {
    const a = { m: new Float32Array([1, 2, 3]), tag: 'a' };
    const b = [new Uint8Array([255]), new Int32Array([-7])];
    const frames = tasksFrames('j1', [
      { index: 0, input: packValue(a) },
      { index: 1, input: '"plain"' },
      { index: 2, input: packValue(b) },
    ]);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toBeInstanceOf(Uint8Array);
    const decoded = decodeServerToWorker(frames[0]) as { items: { input: unknown }[] };
    expect(decoded.items.map((item) => fromSocketForm(item.input))).toEqual([a, 'plain', b]);
  });

  it('cut a tasks frame past MAX_BYTES_TAGS typed arrays into several', () => {
    const many = Array.from({ length: 40_000 }, () => new Uint8Array(1));
    const tasks = [0, 1].map((index) => ({ index, input: packValue(many) }));
    const frames = tasksFrames('j1', tasks);
    expect(frames).toHaveLength(2);
    for (const [i, frame] of frames.entries()) {
      const decoded = decodeServerToWorker(frame) as { items: { index: number }[] };
      expect(decoded.items.map((item) => item.index)).toEqual([i]);
    }
  });
});

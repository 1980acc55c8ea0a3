import { describe, expect, it } from 'vitest';
import { decodeServerToWorker } from '@tabgrid/protocol/worker';
import {
  cancelFrame,
  jobFrame,
  limitFrame,
  messagesFrame,
  tasksFrame,
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
    const frame = tasksFrame('j1', [
      { index: 0, input: '{"x":"a,b"}' },
      { index: 7, input: '[1,2]' },
      { index: 8, input: 'null' },
    ]);
    expect(decodeServerToWorker(frame)).toEqual({
      type: 'tasks',
      jobId: 'j1',
      items: [
        { index: 0, input: { x: 'a,b' } },
        { index: 7, input: [1, 2] },
        { index: 8, input: null },
      ],
    });
  });
});

import { describe, expect, it } from 'vitest';
import { decodeServerToWorker } from '@tabgrid/protocol/worker';
import { cancelFrame, jobFrame, tasksFrame, welcomeFrame } from './frames.js';

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
    });
    expect(decodeServerToWorker(cancelFrame('j1'))).toEqual({ type: 'cancel', jobId: 'j1' });
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

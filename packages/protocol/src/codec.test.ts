import { describe, expect, it } from 'vitest';
import { decodeWorkerToServer, decodeServerToWorker } from './worker.js';
import { decodeSdkRequest } from './sdk.js';
import { TabgridError } from './errors.js';

describe('worker frames', () => {
  it('accepts a valid outcomes batch', () => {
    const frame = JSON.stringify({
      type: 'outcomes',
      credit: 2,
      items: [
        { jobId: 'j1', index: 0, ms: 0.1, ok: true, value: 2 },
        {
          jobId: 'j1',
          index: 1,
          ms: 3,
          ok: false,
          error: { name: 'Error', message: 'boom', stack: 'at Run' },
        },
      ],
    });
    const msg = decodeWorkerToServer(frame);
    expect(msg.type).toBe('outcomes');
  });

  it('refuses unknown message types, naming the problem', () => {
    expect(() => decodeWorkerToServer('{"type":"nope"}')).toThrow(TabgridError);
    expect(() => decodeWorkerToServer('{"type":"nope"}')).toThrow(/Invalid worker frame/);
  });

  it('refuses text that is not JSON, a malformed binary frame, and anything else', () => {
    expect(() => decodeWorkerToServer('{oops')).toThrow(/not JSON/);
    expect(() => decodeWorkerToServer(new Uint8Array([1]))).toThrow(/Invalid binary frame/);
    expect(() => decodeWorkerToServer(42)).toThrow(/text frame/);
  });

  it('refuses negative indexes and missing fields', () => {
    const bad = {
      type: 'outcomes',
      credit: 1,
      items: [{ jobId: 'j', index: -1, ms: 0, ok: true, value: 1 }],
    };
    expect(() => decodeWorkerToServer(JSON.stringify(bad))).toThrow(/index/);
    expect(() => decodeServerToWorker('{"type":"tasks","jobId":"j"}')).toThrow(/items/);
  });
});

describe('sdk requests', () => {
  it('validates a submit batch', () => {
    expect(
      decodeSdkRequest['job:submit']({ jobId: 'j', batchId: 'b1', tasks: [1, 2] }).tasks,
    ).toEqual([1, 2]);
    expect(() => decodeSdkRequest['job:submit']({ jobId: 'j', tasks: [] })).toThrow(/batchId/);
  });

  it('requires a program to create a job', () => {
    expect(() => decodeSdkRequest['job:create']({ name: 'x' })).toThrow(/program/);
    expect(
      decodeSdkRequest['job:create']({ program: 'function Run(d){return d}' }).program,
    ).toContain('Run');
  });
});

import { describe, expect, it } from 'vitest';
import { decodeBinaryFrame, encodeBinaryFrame, hasBytes } from './binary-frame.js';
import { BYTES_TAG, parseWithBytes, stringifyWithBytes } from './bytes.js';
import { decodeServerToWorker, decodeWorkerToServer } from './worker.js';

const jobId = '00000000-0000-4000-8000-000000000000';

describe('binary worker frames', () => {
  it('carry the bytes raw and decode back to the same text-form frame', () => {
    const big = new Float64Array(1000).map((_, i) => i / 3);
    const text = stringifyWithBytes({
      type: 'tasks',
      jobId,
      items: [
        { index: 0, input: { samples: big, id: 'a' } },
        { index: 1, input: [new Uint8Array([1, 2, 3]).buffer, 7] },
      ],
    })!;
    expect(hasBytes(text)).toBe(true);
    const frame = encodeBinaryFrame(text);
    // The 8,000 bytes travel as they are (base64 would be ~10,700), plus a small header.
    expect(frame.byteLength).toBeLessThan(8_000 + 3 + 300);
    expect(text.length).toBeGreaterThan(10_600);
    expect(decodeBinaryFrame(frame)).toEqual(JSON.parse(text));
    const message = decodeServerToWorker(frame.buffer);
    expect(message.type).toBe('tasks');
    expect(parseWithBytes(JSON.stringify(message))).toEqual(parseWithBytes(text));
  });

  it('decode what a worker sends as a binary outcomes frame', () => {
    const text = stringifyWithBytes({
      type: 'outcomes',
      credit: 1,
      items: [{ jobId, index: 3, ms: 1, ok: true, value: new Int32Array([-5, 6]) }],
    })!;
    const message = decodeWorkerToServer(Buffer.from(encodeBinaryFrame(text)));
    expect(message).toMatchObject({
      type: 'outcomes',
      items: [{ value: { [BYTES_TAG]: 'Int32Array', base64: expect.any(String) } }],
    });
  });

  it('refuse malformed frames with a protocol error that names the problem', () => {
    expect(() => decodeBinaryFrame(new Uint8Array([1, 0]))).toThrow(/shorter than/);
    const head = new TextEncoder().encode(`{"x":{"${BYTES_TAG}":"Uint8Array","at":0,"length":9}}`);
    const frame = new Uint8Array(4 + head.length + 2);
    new DataView(frame.buffer).setUint32(0, head.length, true);
    frame.set(head, 4);
    expect(() => decodeBinaryFrame(frame)).toThrow(/past the end/);
    new DataView(frame.buffer).setUint32(0, 10_000, true);
    expect(() => decodeBinaryFrame(frame)).toThrow(/header longer/);
    expect(() => decodeWorkerToServer(new Uint8Array(3))).toThrow(/TG_ERR_PROTOCOL|Invalid binary/);
  });
});

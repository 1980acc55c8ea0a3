import { describe, expect, it } from 'vitest';
import {
  MAX_BYTES_TAGS,
  decodeBinaryFrame,
  encodeBinaryFrame,
  encodeFrames,
  hasBytes,
} from './binary-frame.js';
import { BYTES_TAG, fromSocketForm, parseWithBytes, stringifyWithBytes } from './bytes.js';
import { ErrorCode } from './errors.js';
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
    // Results keep their bytes as views (the socket form): the server stores them as bytes.
    expect(message).toMatchObject({
      type: 'outcomes',
      items: [{ value: { [BYTES_TAG]: 'Int32Array', data: expect.any(Uint8Array) } }],
    });
    expect(fromSocketForm((message as { items: { value: unknown }[] }).items[0]!.value)).toEqual(
      new Int32Array([-5, 6]),
    );
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

/** A binary frame with this header (JSON text) and these attachment bytes, built by hand. */
function frameOf(header: string, attachments: Uint8Array = new Uint8Array(0)): Uint8Array {
  const head = new TextEncoder().encode(header);
  const frame = new Uint8Array(4 + head.length + attachments.length);
  new DataView(frame.buffer).setUint32(0, head.length, true);
  frame.set(head, 4);
  frame.set(attachments, 4 + head.length);
  return frame;
}

const tag = (at: number, length: number) =>
  `{"${BYTES_TAG}":"Uint8Array","at":${at},"length":${length}}`;

/** Expects `run` to throw a TG_ERR_PROTOCOL whose message matches `why`. */
function expectProtocolError(run: () => unknown, why: RegExp): void {
  let thrown: unknown;
  try {
    run();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toMatchObject({ code: ErrorCode.PROTOCOL, message: expect.stringMatching(why) });
}

describe('binary frames from a hostile sender', () => {
  it('refuse many tags pointing at one attachment before encoding any of it', () => {
    // The attack: 1 MB of bytes, named 4,000 times: ~5 GB of base64 if each tag were honoured.
    const attachment = new Uint8Array(1024 * 1024);
    const header = `{"type":"outcomes","credit":0,"items":[${Array.from(
      { length: 4000 },
      (_, i) => `{"jobId":"j","index":${i},"ms":1,"ok":true,"value":${tag(0, attachment.length)}}`,
    ).join(',')}]}`;
    expectProtocolError(() => decodeBinaryFrame(frameOf(header, attachment)), /overlap/);
    expectProtocolError(() => decodeWorkerToServer(frameOf(header, attachment)), /overlap/);
  });

  it('refuse partly overlapping ranges, gaps, and bytes no tag uses', () => {
    const bytes = new Uint8Array(10);
    expectProtocolError(
      () => decodeBinaryFrame(frameOf(`[${tag(0, 6)},${tag(5, 5)}]`, bytes)),
      /overlap/,
    );
    expectProtocolError(
      () => decodeBinaryFrame(frameOf(`[${tag(0, 4)},${tag(5, 5)}]`, bytes)),
      /no tag uses/,
    );
    expectProtocolError(() => decodeBinaryFrame(frameOf(`[${tag(0, 4)}]`, bytes)), /no tag uses/);
    expectProtocolError(() => decodeBinaryFrame(frameOf('{"a":1}', bytes)), /no tag uses/);
    expectProtocolError(() => decodeBinaryFrame(frameOf(`[${tag(-1, 4)}]`, bytes)), /valid offset/);
    expectProtocolError(
      () => decodeBinaryFrame(frameOf(`[${tag(0, 1e300)}]`, bytes)),
      /valid offset/,
    );
  });

  it('take tags that tile the attachments in any order, empty ones included', () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5]);
    const value = decodeBinaryFrame(frameOf(`[${tag(3, 2)},${tag(5, 0)},${tag(0, 3)}]`, bytes));
    expect(value).toEqual([
      { [BYTES_TAG]: 'Uint8Array', base64: 'BAU=' },
      { [BYTES_TAG]: 'Uint8Array', base64: '' },
      { [BYTES_TAG]: 'Uint8Array', base64: 'AQID' },
    ]);
  });

  it(`refuse more than ${MAX_BYTES_TAGS} tags, even empty ones`, () => {
    const header = `[${Array.from({ length: MAX_BYTES_TAGS + 1 }, () => tag(0, 0)).join(',')}]`;
    expectProtocolError(() => decodeBinaryFrame(frameOf(header)), /more than 65536 bytes tags/);
    const atLimit = `[${Array.from({ length: MAX_BYTES_TAGS }, () => tag(0, 0)).join(',')}]`;
    expect(decodeBinaryFrame(frameOf(atLimit))).toHaveLength(MAX_BYTES_TAGS);
  });

  it('refuse a header nested 10,000 deep before parsing it', () => {
    const deep = '['.repeat(10_000) + tag(0, 1) + ']'.repeat(10_000);
    expectProtocolError(
      () => decodeBinaryFrame(frameOf(deep, new Uint8Array(1))),
      /deeper than 128/,
    );
    expectProtocolError(
      () => decodeWorkerToServer(frameOf(deep, new Uint8Array(1))),
      /deeper than 103/,
    );
  });

  it('are written by the encoder so that its own decoder takes them', () => {
    const text = stringifyWithBytes({
      type: 'outcomes',
      credit: 3,
      items: [
        { jobId, index: 0, ms: 1, ok: true, value: [new Uint8Array(0), new Float32Array([1, 2])] },
        {
          jobId,
          index: 1,
          ms: 1,
          ok: true,
          value: { a: new Uint8Array([9]), b: new Uint8Array(0) },
        },
        { jobId, index: 2, ms: 1, ok: true, value: new BigInt64Array([-1n]) },
      ],
    })!;
    expect(decodeBinaryFrame(encodeBinaryFrame(text))).toEqual(JSON.parse(text));
    expect(fromSocketForm(decodeWorkerToServer(encodeBinaryFrame(text)))).toEqual(
      parseWithBytes(text),
    );
  });

  it('are not written with more typed arrays than a decoder takes', () => {
    const many = Array.from({ length: MAX_BYTES_TAGS + 1 }, () => new Uint8Array(0));
    expectProtocolError(
      () => encodeBinaryFrame(stringifyWithBytes(many)!),
      /more than 65536 typed arrays/,
    );
  });
});

describe('encodeFrames', () => {
  const tag = { [BYTES_TAG]: 'Uint8Array', base64: 'AQ==' };
  const tasks = (n: number, arrays: number) =>
    JSON.stringify({
      type: 'tasks',
      jobId: 'j',
      items: Array.from({ length: n }, (_, index) => ({
        index,
        input: Array.from({ length: arrays }, () => tag),
      })),
    });

  it('sends a frame without bytes as its text, one with few as one binary frame', () => {
    expect(encodeFrames('{"type":"tasks","jobId":"j","items":[]}')).toEqual([
      '{"type":"tasks","jobId":"j","items":[]}',
    ]);
    const parts = encodeFrames(tasks(3, 2));
    expect(parts).toHaveLength(1);
    expect(decodeBinaryFrame(parts[0] as Uint8Array)).toEqual(JSON.parse(tasks(3, 2)));
  });

  it('cuts a tasks frame of more than MAX_BYTES_TAGS typed arrays into frames within it', () => {
    // 700 tasks of 100 arrays: 70,000 tags, more than one binary frame may hold.
    const text = tasks(700, 100);
    const parts = encodeFrames(text);
    expect(parts.length).toBe(2);
    const frames = parts.map(
      (part) => decodeBinaryFrame(part as Uint8Array) as { items: unknown[] },
    );
    expect(frames.every((f) => f.items.length * 100 <= MAX_BYTES_TAGS)).toBe(true);
    expect({ ...frames[0], items: frames.flatMap((f) => f.items) }).toEqual(JSON.parse(text));
  }, 30_000);

  it('refuses a frame that cannot be cut (one item over the bound, or not a list of items)', () => {
    expect(() => encodeFrames(tasks(1, MAX_BYTES_TAGS + 1))).toThrow(
      /more than 65536 typed arrays/,
    );
    const outcomes = JSON.stringify({
      type: 'outcomes',
      credit: 1,
      items: Array.from({ length: MAX_BYTES_TAGS + 1 }, (_, index) => ({ index, value: tag })),
    });
    expect(() => encodeFrames(outcomes)).toThrow(/more than 65536 typed arrays/);
  }, 30_000);
});

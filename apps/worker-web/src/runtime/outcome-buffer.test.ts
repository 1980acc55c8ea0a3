import { fromSocketForm } from '@tabgrid/protocol/bytes';
import { decodeWorkerToServer } from '@tabgrid/protocol/worker';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WORKER_LIMITS, type WorkerToServer } from '@tabgrid/protocol/worker';
import { FLUSH_DELAY_MS, OutcomeBuffer, flushThreshold, splitOutcomes } from './outcome-buffer';

const outcome = (index: number) =>
  JSON.stringify({ jobId: 'j', index, ms: 1, ok: true, value: { n: index } });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('OutcomeBuffer', () => {
  it('sends attached outcomes at once as a binary frame the server decodes, after what waits', () => {
    const frames: (string | Uint8Array)[] = [];
    const buffer = new OutcomeBuffer(
      (frame) => frames.push(frame),
      () => true,
    );
    buffer.add(outcome(0), 1);
    buffer.addCredit(3);
    const floats = new Float32Array([0.5, 2]);
    const attached =
      '{"jobId":"j","index":1,"ms":1,"ok":true,"value":{"$tabgrid.bytes":"Float32Array","at":0,"length":8}}';
    buffer.add(attached, 1, [floats.buffer]);
    expect(frames).toHaveLength(2);
    expect(typeof frames[0]).toBe('string'); // what waited, first
    expect(frames[1]).toBeInstanceOf(Uint8Array);
    const decoded = decodeWorkerToServer(frames[1]) as Extract<
      WorkerToServer,
      { type: 'outcomes' }
    >;
    // The server keeps a binary frame's result bytes as bytes: socket-form tags viewing the frame.
    expect(decoded.items).toMatchObject([
      {
        index: 1,
        ok: true,
        value: { '$tabgrid.bytes': 'Float32Array', data: expect.any(Uint8Array) },
      },
    ]);
    const [item] = decoded.items as { value?: unknown }[];
    expect(fromSocketForm(item!.value)).toEqual(floats);
    // The credit went with the first frame that left.
    const first = decodeWorkerToServer(frames[0]) as Extract<WorkerToServer, { type: 'outcomes' }>;
    expect(first.credit + decoded.credit).toBe(3);
  });

  it('sends one protocol-valid outcomes frame carrying the credit, after a short delay', async () => {
    const frames: string[] = [];
    const buffer = new OutcomeBuffer(
      (frame) => frames.push(frame as string),
      () => true,
    );
    buffer.add([outcome(0), outcome(1)].join(','), 2);
    buffer.addCredit(2);
    buffer.add([outcome(2)].join(','), 1);
    await Promise.resolve(); // the flush is planned in a microtask
    expect(frames).toEqual([]);
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(frames).toHaveLength(1);
    const decoded = decodeWorkerToServer(frames[0]);
    expect(decoded).toEqual({
      type: 'outcomes',
      credit: 2,
      items: [0, 1, 2].map((index) => ({
        jobId: 'j',
        index,
        ms: 1,
        ok: true,
        value: { n: index },
      })),
    });
  });

  it('sends a bare credit frame when there are no outcomes, and nothing when idle', () => {
    const frames: string[] = [];
    const buffer = new OutcomeBuffer(
      (frame) => frames.push(frame as string),
      () => true,
    );
    buffer.addCredit(5);
    buffer.flush();
    buffer.flush();
    expect(frames.map((frame) => decodeWorkerToServer(frame))).toEqual([
      { type: 'credit', slots: 5 },
    ]);
  });

  it('flushes at once when enough outcomes wait', () => {
    const frames: string[] = [];
    const buffer = new OutcomeBuffer(
      (frame) => frames.push(frame as string),
      () => true,
    );
    buffer.flushAt = 3;
    buffer.add([outcome(0), outcome(1), outcome(2)].join(','), 3);
    expect(frames).toHaveLength(1);
  });

  it('keeps credit back when asked (pause)', () => {
    const frames: string[] = [];
    const buffer = new OutcomeBuffer(
      (frame) => frames.push(frame as string),
      () => true,
    );
    buffer.addCredit(4);
    expect(buffer.takeCredit()).toBe(4);
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(frames).toEqual([]);
  });

  it('parks at most a quarter of the grant, within bounds', () => {
    expect(flushThreshold(256)).toBe(64);
    expect(flushThreshold(32 * 256)).toBe(512);
    expect(flushThreshold(8)).toBe(16);
  });
});

describe('OutcomeBuffer frame limits', () => {
  const MB = 2 ** 20;
  const big = (index: number, value: unknown) =>
    JSON.stringify({ jobId: 'j', index, ms: 1, ok: true, value });

  /** Every frame sent, checked as the server checks it: size, then the real decoder. */
  function capture() {
    const frames: string[] = [];
    const buffer = new OutcomeBuffer(
      (frame) => frames.push(frame as string),
      () => true,
    );
    buffer.flushAt = Infinity; // only the limits split frames here
    const decoded = () =>
      frames.map((frame) => {
        expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(WORKER_LIMITS.maxFrameBytes);
        return decodeWorkerToServer(frame) as Extract<WorkerToServer, { type: 'outcomes' }>;
      });
    return { buffer, frames, decoded };
  }

  it('splits many medium outcomes adding up beyond 16 MB into frames the server accepts', () => {
    const { buffer, decoded } = capture();
    const text = 'x'.repeat(MB);
    // One thread flush of 12 outcomes (one piece) and 12 single ones: 24 MB in all.
    buffer.add(Array.from({ length: 12 }, (_, i) => big(i, text)).join(','), 12);
    for (let i = 12; i < 24; i++) buffer.add(big(i, text), 1);
    buffer.addCredit(24);
    buffer.flush();
    const frames = decoded();
    expect(frames.length).toBeGreaterThanOrEqual(2);
    const items = frames.flatMap((frame) => frame.items);
    expect(items.map((item) => item.index)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(items.every((item) => item.ok && item.value === text)).toBe(true);
    expect(frames.reduce((sum, frame) => sum + frame.credit, 0)).toBe(24);
  });

  it('counts UTF-8 bytes: 8 outcomes of 3 MB of euro signs (1 Mi units each) split too', () => {
    const { buffer, decoded } = capture();
    for (let i = 0; i < 8; i++) buffer.add(big(i, '\u20ac'.repeat(MB)), 1);
    buffer.flush();
    const frames = decoded();
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(frames.flatMap((frame) => frame.items)).toHaveLength(8);
  });

  it('replaces one outcome too large for any frame by an error of that task, sends the rest', () => {
    const { buffer, decoded } = capture();
    buffer.add([big(0, 1), big(1, 'x'.repeat(20 * MB)), big(2, { '{[,': ',]}' })].join(','), 3);
    buffer.flush();
    const items = decoded().flatMap((frame) => frame.items);
    expect(items).toHaveLength(3);
    expect(items[0]).toMatchObject({ index: 0, ok: true, value: 1 });
    expect(items[1]).toMatchObject({ index: 1, ok: false, error: { name: 'ResultTooLarge' } });
    expect(items[1]!.ok === false && items[1]!.error.message).toMatch(
      /^The outcome weighs 20\.0 MB, more than a frame may carry \(16\.0 MB/,
    );
    expect(items[2]).toMatchObject({ index: 2, ok: true, value: { '{[,': ',]}' } });
  });

  it('never puts more than maxItems outcomes in a frame', () => {
    const { buffer, decoded } = capture();
    const count = WORKER_LIMITS.maxItems + 10;
    buffer.add(Array.from({ length: count }, (_, i) => outcome(i)).join(','), count);
    buffer.flush();
    const frames = decoded();
    expect(frames.map((frame) => frame.items.length)).toEqual([WORKER_LIMITS.maxItems, 10]);
  });

  it('splits outcome texts only at top-level commas', () => {
    const texts = [big(0, ['a,b', { c: [1, 2] }]), big(1, 'q\\",{'), big(2, null)];
    expect(splitOutcomes(texts.join(','))).toEqual(texts);
  });
});

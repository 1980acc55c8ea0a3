import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { LiveNdjsonWriter, QUIET_FLUSH_MS, QUIET_PAD_BYTES } from './ndjson.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function sink(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.setEncoding('utf8');
  out.on('data', (c: string) => (text += c));
  return { out, text: () => text };
}

it('never stops on a line boundary while lines flow: the last newline waits for the next write', () => {
  const { out, text } = sink();
  const writer = new LiveNdjsonWriter(out);
  writer.write(['1', '2']);
  expect(text()).toBe('1\n2');
  writer.write(['3']);
  expect(text()).toBe('1\n2\n3');
  writer.end();
  expect(text()).toBe('1\n2\n3\n');
});

it('completes the held line with more padding than a reader buffers once the stream is quiet', () => {
  const { out, text } = sink();
  const writer = new LiveNdjsonWriter(out);
  writer.write(['{"a":1}']);
  vi.advanceTimersByTime(QUIET_FLUSH_MS - 1);
  expect(text()).toBe('{"a":1}');
  vi.advanceTimersByTime(1);
  expect(QUIET_PAD_BYTES).toBeGreaterThan(8192); // Python's io.DEFAULT_BUFFER_SIZE
  expect(text()).toBe(`{"a":1}${' '.repeat(QUIET_PAD_BYTES)}\n`);
  // Still valid NDJSON: every line parses.
  const lines = text().trimEnd().split('\n');
  expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([{ a: 1 }]);
  // Nothing is held now: a later write starts a fresh line, and the end adds no blank line.
  writer.write(['2']);
  writer.end();
  expect(text().endsWith('\n2\n')).toBe(true);
});

import { describe, expect, it } from 'vitest';
import { ndjsonLines } from './ndjson.js';

function body(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      }
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>, max = 1000): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of ndjsonLines(stream, max)) lines.push(line);
  return lines;
}

describe('ndjsonLines', () => {
  it('yields whole lines across chunk boundaries, skipping blank padding', async () => {
    expect(await collect(body(['{"a":', '1}\n{"b"', ':2}\n   \n\n{"c":3}']))).toEqual([
      '{"a":1}',
      '{"b":2}',
      '{"c":3}',
    ]);
  });

  it('decodes a character split between chunks', async () => {
    const bytes = new TextEncoder().encode('"é"\n');
    expect(await collect(body([bytes.slice(0, 2), bytes.slice(2)]))).toEqual(['"é"']);
  });

  it('refuses a line longer than the limit', async () => {
    await expect(collect(body(['x'.repeat(50), 'y'.repeat(60)]), 100)).rejects.toThrow(
      'longer than 100 characters',
    );
  });
});

/** How `tabgrid run` reads TASKS: JSON array or NDJSON told apart, NDJSON pulled line by line. */
import { describe, expect, it } from 'vitest';
import { UsageError } from './flags.js';
import { readTasks, type TaskFormat, type TaskInputLimits } from './task-input.js';

/** A byte stream of `chunks` (split where the test says, to cross line boundaries). */
async function* bytes(...chunks: string[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) {
    await Promise.resolve(); // Each chunk comes later, as from a pipe.
    yield new TextEncoder().encode(chunk);
  }
}

async function all(
  format: TaskFormat | undefined,
  limits: TaskInputLimits | undefined,
  ...chunks: string[]
) {
  const input = await readTasks(bytes(...chunks), 'TASKS t', format, limits);
  const tasks: unknown[] = [];
  for await (const task of input.tasks) tasks.push(task);
  return { format: input.format, tasks, total: input.total, count: input.count };
}

const read = (...chunks: string[]) => all(undefined, undefined, ...chunks);

describe('readTasks: telling the formats apart', () => {
  it('reads a JSON array, compact or pretty-printed, as a JSON array', async () => {
    expect(await read('[1, {"a": 2}, "x"]\n')).toEqual({
      format: 'json',
      tasks: [1, { a: 2 }, 'x'],
      total: 3,
      count: 3,
    });
    expect(await read('[\n  1,\n', '  2\n]\n')).toMatchObject({ format: 'json', tasks: [1, 2] });
  });

  it('reads one task per line as NDJSON, blank lines and CRLF ends skipped', async () => {
    expect(await read('1\r\n{"a":', '2}\n\n"x"\n', '[3]')).toEqual({
      format: 'ndjson',
      tasks: [1, { a: 2 }, 'x', [3]],
      total: 4,
      count: 4,
    });
  });

  it('reads NDJSON whose every task is an array as NDJSON, not as one array', async () => {
    expect(await read('[1, 2]\n[3, 4]\n')).toMatchObject({
      format: 'ndjson',
      tasks: [
        [1, 2],
        [3, 4],
      ],
    });
  });

  it('follows --format: one line holding an array is one task with ndjson', async () => {
    expect(await all('ndjson', undefined, '[1, 2]\n')).toMatchObject({ tasks: [[1, 2]] });
    expect(await all('json', undefined, '[1,\n2]')).toMatchObject({ tasks: [1, 2] });
  });

  it('reads empty input as no tasks', async () => {
    expect(await read('')).toMatchObject({ tasks: [], total: 0 });
    expect(await read('\n  \n')).toMatchObject({ tasks: [], total: 0 });
  });
});

describe('readTasks: refusing what is not tasks', () => {
  it('names the line that is not JSON, and the first one before any task is read', async () => {
    await expect(read('nope\n1\n')).rejects.toThrow(/TASKS t line 1 is not JSON/);
    const input = await readTasks(bytes('1\n2\n\nnot json\n'), 'TASKS t');
    const seen: unknown[] = [];
    const reading = (async () => {
      for await (const task of input.tasks) seen.push(task);
    })();
    await expect(reading).rejects.toBeInstanceOf(UsageError);
    await expect(reading).rejects.toThrow(/line 4 is not JSON/);
    expect(seen).toEqual([1, 2]);
  });

  it('refuses a JSON value that is not an array, and broken JSON', async () => {
    await expect(all('json', undefined, '{"a": 1}')).rejects.toThrow(/must be a JSON array/);
    await expect(read('[1, 2\n')).rejects.toThrow(/TASKS t is not valid JSON/);
  });

  it('bounds a JSON array and an NDJSON line before parsing them', async () => {
    const limits = { arrayChars: 20, lineChars: 8 };
    await expect(all(undefined, limits, '[', '1,2,3,4,5,6,7,8,9,10,11]')).rejects.toThrow(
      /is over .* MB: write it as NDJSON/,
    );
    await expect(all(undefined, limits, '1\n', '"0123456789"\n')).rejects.toThrow(
      /line 2 is over .* MB/,
    );
    // Under the bounds the same shapes pass.
    expect(await all(undefined, limits, '[1,2,3]')).toMatchObject({ tasks: [1, 2, 3] });
  });
});

describe('readTasks: streaming', () => {
  it('hands out NDJSON tasks before the input has ended, with a total only at its end', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let chunksRead = 0;
    async function* slowSource() {
      chunksRead += 1;
      yield '1\n2\n';
      await gate; // The rest of the input is not there yet.
      chunksRead += 1;
      yield '3\n';
    }
    const input = await readTasks(slowSource(), 'TASKS (stdin)');
    expect(input.format).toBe('ndjson');
    const iterator = (input.tasks as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe(1);
    expect((await iterator.next()).value).toBe(2);
    expect(chunksRead).toBe(1);
    expect(input.total).toBeUndefined();
    expect(input.count).toBe(2);
    release();
    expect((await iterator.next()).value).toBe(3);
    expect((await iterator.next()).done).toBe(true);
    expect(input.total).toBe(3);
  });
});

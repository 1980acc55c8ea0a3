/**
 * `tabgrid run`'s TASKS: a JSON array or NDJSON (one task per line), from a file or stdin, told
 * apart by their first lines. NDJSON is streamed: the SDK pulls one line at a time as fast as
 * the server acknowledges, so a file of millions of tasks is never held in memory. A JSON array
 * must be parsed whole, so it is bounded ({@link MAX_JSON_ARRAY_CHARS}).
 */
import { UsageError } from './flags.js';

export type TaskFormat = 'json' | 'ndjson';

/** Largest JSON-array TASKS input (characters): beyond it, write one task per line. */
export const MAX_JSON_ARRAY_CHARS = 256 * 1024 * 1024;
/** Longest line of NDJSON TASKS (characters): one task. */
export const MAX_TASK_LINE_CHARS = 64 * 1024 * 1024;

/** The tasks of a TASKS input, read as they are submitted. */
export interface TaskInput {
  format: TaskFormat;
  /** The tasks; iterate once. A line that is not JSON throws a {@link UsageError} naming it. */
  tasks: AsyncIterable<unknown>;
  /** How many tasks have been read so far. */
  readonly count: number;
  /** The number of tasks once all are known (a JSON array at once, NDJSON at its end). */
  readonly total: number | undefined;
}

/** Text lines from a byte (or string) stream, each bounded, without quadratic joins. */
class LineReader {
  private buffer = '';
  private ended = false;
  private readonly decoder = new TextDecoder();
  /** 1-based number of the line {@link readLine} returned last. */
  line = 0;

  constructor(
    private readonly source: AsyncIterator<Uint8Array | string>,
    private readonly what: string,
  ) {}

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const step = await this.source.next();
    if (step.done) {
      this.ended = true;
      this.buffer += this.decoder.decode();
      return this.buffer !== '';
    }
    this.buffer +=
      typeof step.value === 'string'
        ? step.value
        : this.decoder.decode(step.value, { stream: true });
    return true;
  }

  /** The next line without its `\n` (or `\r\n`); undefined at the end of the input. */
  async readLine(maxChars: number): Promise<string | undefined> {
    const parts: string[] = [];
    let length = 0;
    for (;;) {
      const newline = this.buffer.indexOf('\n');
      if (newline >= 0) {
        parts.push(this.buffer.slice(0, newline));
        this.buffer = this.buffer.slice(newline + 1);
        return this.finish(parts, length + newline, maxChars);
      }
      length += this.buffer.length;
      parts.push(this.buffer);
      this.buffer = '';
      this.check(length, maxChars);
      if (!(await this.fill())) {
        return length === 0 ? undefined : this.finish(parts, length, maxChars);
      }
    }
  }

  /** Everything left, as one string of at most `maxChars`. */
  async readRest(maxChars: number): Promise<string> {
    const parts = [this.buffer];
    let length = this.buffer.length;
    this.buffer = '';
    while (await this.fill()) {
      parts.push(this.buffer);
      length += this.buffer.length;
      this.buffer = '';
      this.check(length, maxChars);
    }
    return parts.join('');
  }

  private finish(parts: string[], length: number, maxChars: number): string {
    this.check(length, maxChars);
    this.line += 1;
    const text = parts.join('');
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  }

  private check(length: number, maxChars: number): void {
    if (length <= maxChars) return;
    throw new UsageError(
      maxChars === MAX_JSON_ARRAY_CHARS
        ? `${this.what} is over ${maxChars / 1024 / 1024} MB: write it as NDJSON (one task per line), which is streamed.`
        : `${this.what} line ${this.line + 1} is over ${maxChars / 1024 / 1024} MB: one task per line, each smaller.`,
    );
  }

  /** The next line that is not blank, with its number. */
  async nextTaskLine(maxChars: number): Promise<{ text: string; line: number } | undefined> {
    for (;;) {
      const text = await this.readLine(maxChars);
      if (text === undefined) return undefined;
      if (text.trim() !== '') return { text, line: this.line };
    }
  }
}

function parseLine(text: string, line: number, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${what} line ${line} is not JSON (${error instanceof Error ? error.message : String(error)}): write one task per line (NDJSON), or a JSON array.`,
    );
  }
}

function parseArray(text: string, what: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${what} is not valid JSON (${error instanceof Error ? error.message : String(error)}): give a JSON array of tasks, or one task per line (NDJSON).`,
    );
  }
  if (!Array.isArray(value)) {
    throw new UsageError(
      `${what} must be a JSON array of tasks (or one task per line): use --format ndjson for a single task.`,
    );
  }
  return value as unknown[];
}

/** The JSON value of a line, or `undefined` if it is not JSON (to tell formats apart). */
function valueOrNothing(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/**
 * Reads the start of `source` and says how its tasks are written. Without `format`: input whose
 * first line starts with `[` is a JSON array, unless that line is itself a whole JSON value
 * followed by more lines (NDJSON whose tasks are arrays); anything else is NDJSON. A one-line
 * NDJSON file holding one array is therefore read as a JSON array: say `--format ndjson`.
 *
 * @example
 * const input = await readTasks(createReadStream('tasks.ndjson'), 'TASKS tasks.ndjson');
 * for await (const task of input.tasks) submit(task);
 */
export async function readTasks(
  source: AsyncIterable<Uint8Array | string>,
  what: string,
  format?: TaskFormat,
): Promise<TaskInput> {
  const reader = new LineReader(source[Symbol.asyncIterator](), what);
  const first = await reader.nextTaskLine(MAX_JSON_ARRAY_CHARS);
  if (first === undefined) return fromArray([]);
  const looksLikeArray = first.text.trimStart().startsWith('[');
  if (format === 'json' || (format === undefined && looksLikeArray)) {
    const whole = format === undefined ? valueOrNothing(first.text) : undefined;
    if (whole !== undefined) {
      const second = await reader.nextTaskLine(MAX_TASK_LINE_CHARS);
      if (second === undefined) return fromArray(parseArray(first.text, what));
      checkLine(first.text.length, first.line, what);
      return fromLines(reader, [whole.value, parseLine(second.text, second.line, what)], what);
    }
    const rest = await reader.readRest(MAX_JSON_ARRAY_CHARS - first.text.length - 1);
    return fromArray(parseArray(`${first.text}\n${rest}`, what));
  }
  // The first task is checked now, before a job is created for input that is not tasks at all.
  checkLine(first.text.length, first.line, what);
  return fromLines(reader, [parseLine(first.text, first.line, what)], what);
}

function checkLine(length: number, line: number, what: string): void {
  if (length > MAX_TASK_LINE_CHARS) {
    throw new UsageError(
      `${what} line ${line} is over ${MAX_TASK_LINE_CHARS / 1024 / 1024} MB: one task per line, each smaller.`,
    );
  }
}

function fromArray(tasks: unknown[]): TaskInput {
  let count = 0;
  return {
    format: 'json',
    total: tasks.length,
    get count() {
      return count;
    },
    tasks: (async function* () {
      for (const task of tasks) {
        count += 1;
        yield task;
      }
    })(),
  };
}

function fromLines(reader: LineReader, peeked: unknown[], what: string): TaskInput {
  let count = 0;
  let total: number | undefined;
  async function* tasks() {
    for (const value of peeked) {
      count += 1;
      yield value;
    }
    for (;;) {
      const next = await reader.nextTaskLine(MAX_TASK_LINE_CHARS);
      if (next === undefined) break;
      const value = parseLine(next.text, next.line, what);
      count += 1;
      yield value;
    }
    total = count;
  }
  return {
    format: 'ndjson',
    get count() {
      return count;
    },
    get total() {
      return total;
    },
    tasks: tasks(),
  };
}

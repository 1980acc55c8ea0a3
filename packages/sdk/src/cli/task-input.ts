/**
 * `tabgrid run`'s TASKS: a JSON array or NDJSON (one task per line), from a file or stdin, told
 * apart by their first lines. NDJSON is streamed: the SDK pulls one line at a time as fast as
 * the server acknowledges, so a file of millions of tasks is never held in memory. A JSON array
 * must be parsed whole, so it is bounded ({@link TASK_INPUT_LIMITS}).
 */
import { UsageError } from './flags.js';

export type TaskFormat = 'json' | 'ndjson';

/** How large TASKS may be before any work proportional to it. */
export interface TaskInputLimits {
  /** Largest JSON-array input (characters): beyond it, write one task per line. */
  arrayChars: number;
  /** Longest NDJSON line (characters): one task. */
  lineChars: number;
}

export const TASK_INPUT_LIMITS: TaskInputLimits = {
  arrayChars: 256 * 1024 * 1024,
  lineChars: 64 * 1024 * 1024,
};

const mb = (chars: number) => `${Math.round((chars / 1024 / 1024) * 10) / 10} MB`;

/** Which bound a read is under, for the message when it is exceeded. */
type Bound = { chars: number; of: 'array' | 'line' };

/** The tasks of a TASKS input, read as they are submitted. */
export interface TaskInput {
  format: TaskFormat;
  /** The tasks; iterate once. A line that is not JSON throws a {@link UsageError} naming it. */
  tasks: AsyncIterable<unknown> | Iterable<unknown>;
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
  async readLine(bound: Bound): Promise<string | undefined> {
    const parts: string[] = [];
    let length = 0;
    for (;;) {
      const newline = this.buffer.indexOf('\n');
      if (newline >= 0) {
        parts.push(this.buffer.slice(0, newline));
        this.buffer = this.buffer.slice(newline + 1);
        return this.finish(parts, length + newline, bound);
      }
      length += this.buffer.length;
      parts.push(this.buffer);
      this.buffer = '';
      this.check(length, bound);
      if (!(await this.fill())) {
        return length === 0 ? undefined : this.finish(parts, length, bound);
      }
    }
  }

  /** Everything left, as one string of at most `maxChars`. */
  async readRest(bound: Bound): Promise<string> {
    const parts = [this.buffer];
    let length = this.buffer.length;
    this.buffer = '';
    while (await this.fill()) {
      parts.push(this.buffer);
      length += this.buffer.length;
      this.buffer = '';
      this.check(length, bound);
    }
    return parts.join('');
  }

  private finish(parts: string[], length: number, bound: Bound): string {
    this.check(length, bound);
    this.line += 1;
    const text = parts.join('');
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  }

  private check(length: number, bound: Bound): void {
    if (length <= bound.chars) return;
    throw new UsageError(
      bound.of === 'array'
        ? `${this.what} is over ${mb(bound.chars)}: write it as NDJSON (one task per line), which is streamed.`
        : `${this.what} line ${this.line + 1} is over ${mb(bound.chars)}: one task per line, each smaller.`,
    );
  }

  /** The next line that is not blank, with its number. */
  async nextTaskLine(bound: Bound): Promise<{ text: string; line: number } | undefined> {
    for (;;) {
      const text = await this.readLine(bound);
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
  limits: TaskInputLimits = TASK_INPUT_LIMITS,
): Promise<TaskInput> {
  const reader = new LineReader(source[Symbol.asyncIterator](), what);
  const array: Bound = { chars: limits.arrayChars, of: 'array' };
  const line: Bound = { chars: limits.lineChars, of: 'line' };
  const first = await reader.nextTaskLine(array);
  if (first === undefined) return fromArray([]);
  const looksLikeArray = first.text.trimStart().startsWith('[');
  if (format === 'json' || (format === undefined && looksLikeArray)) {
    const whole = format === undefined ? valueOrNothing(first.text) : undefined;
    if (whole !== undefined) {
      const second = await reader.nextTaskLine(line);
      if (second === undefined) return fromArray(parseArray(first.text, what));
      checkLine(first, line, what);
      const peeked = [whole.value, parseLine(second.text, second.line, what)];
      return fromLines(reader, peeked, line, what);
    }
    const rest = await reader.readRest({ ...array, chars: array.chars - first.text.length - 1 });
    return fromArray(parseArray(`${first.text}\n${rest}`, what));
  }
  // The first task is checked now, before a job is created for input that is not tasks at all.
  checkLine(first, line, what);
  return fromLines(reader, [parseLine(first.text, first.line, what)], line, what);
}

/** The first line was read under the array bound: as a task it must also fit a line's. */
function checkLine(first: { text: string; line: number }, bound: Bound, what: string): void {
  if (first.text.length > bound.chars) {
    throw new UsageError(
      `${what} line ${first.line} is over ${mb(bound.chars)}: one task per line, each smaller.`,
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
    tasks: (function* () {
      for (const task of tasks) {
        count += 1;
        yield task;
      }
    })(),
  };
}

function fromLines(reader: LineReader, peeked: unknown[], bound: Bound, what: string): TaskInput {
  let count = 0;
  let total: number | undefined;
  async function* tasks() {
    for (const value of peeked) {
      count += 1;
      yield value;
    }
    for (;;) {
      const next = await reader.nextTaskLine(bound);
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

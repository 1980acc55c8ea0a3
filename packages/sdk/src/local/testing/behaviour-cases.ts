/**
 * One shared set of behaviour cases — a program, its tasks and what must come of them — run
 * both on local threads (local-parity.test.ts) and on a real grid of Chromium tabs
 * (e2e/tests/local-parity.spec.ts): local runs are only worth having if they behave as the grid
 * does. Each case says what it watches; {@link observe} runs it on any client and returns an
 * order-free summary that a test compares with `expected` (`toEqual`), whatever framework.
 *
 * Exported as `@tabgrid/sdk/testing`.
 */
import type { Tabgrid, JobSpec } from '../../client.js';
import type { Job, TaskOutcome } from '../../job.js';

/** What a case looks at besides its outcomes. */
export type Watch = 'logs' | 'events' | 'series' | 'setup';

export interface BehaviourCase {
  name: string;
  job: Omit<JobSpec, 'program' | 'name'> & { program: string };
  tasks: unknown[];
  watch: Watch[];
  /** Sent with `job.tell()` once task 0 has reported progress (it waits in `tabgrid.next()`). */
  tell?: unknown;
  expected: Observed;
}

/** An outcome without its seq; an error's stack summarized (its first frame, clean, size). */
export type ObservedOutcome =
  | { index: number; ok: true; value: unknown }
  | {
      index: number;
      ok: false;
      error: { type: string; name: string; message: string; frame: string | null; clean: boolean };
    };

export interface Observed {
  /** The job was refused at creation (then nothing else is observed). */
  refused?: { code: string; message: string };
  outcomes: ObservedOutcome[];
  /** Task lines (index not null), by index then message. */
  taskLogs?: { index: number; level: string; message: string; count: number }[];
  events?: { index: number | null; name: string; data: unknown }[];
  series?: { label: string; index: number; values: unknown[] }[];
  /** Setup ran at least once; its lines (index null) and events match the job's setup count; Teardown ran as often. */
  setup?: { ran: boolean; linesMatch: boolean; teardownsMatch: boolean };
}

const THROWS = [
  'function Run(d) {',
  '  const p = d * 2;',
  '  if (d === 3) throw new Error("bad pixel " + p);',
  '  return p;',
  '}',
].join('\n');

const SETUP = `let base;
function Setup(args) {
  console.log('setup');
  tabgrid.emit('setup', { k: args.k });
  base = args.k;
}
function Run(d) { return d + base; }
function Teardown() { console.log('teardown'); }`;

const ok = (index: number, value: unknown): ObservedOutcome => ({ index, ok: true, value });
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const HINT = "closures don't travel with the program: pass values in args";

export const BEHAVIOUR_CASES: BehaviourCase[] = [
  {
    name: 'values and args',
    job: { program: 'function Run(d, args) { return { sq: d * d, k: args.k }; }', args: { k: 7 } },
    tasks: range(8),
    watch: [],
    expected: { outcomes: range(8).map((d) => ok(d, { sq: d * d, k: 7 })) },
  },
  {
    name: 'a thrown error names job.js at its line (after retryErrors)',
    job: { program: THROWS, retryErrors: 1 },
    tasks: range(5),
    watch: [],
    expected: {
      outcomes: range(5).map((d) =>
        d === 3
          ? {
              index: 3,
              ok: false,
              error: {
                type: 'program',
                name: 'Error',
                message: 'bad pixel 6',
                frame: 'at Run (job.js:3)',
                clean: true,
              },
            }
          : ok(d, d * 2),
      ),
    },
  },
  {
    name: 'a ReferenceError says closures do not travel',
    job: { program: 'function Run() {\n  return scale * 2;\n}' },
    tasks: [0],
    watch: [],
    expected: {
      outcomes: [
        {
          index: 0,
          ok: false,
          error: {
            type: 'program',
            name: 'ReferenceError',
            message: `scale is not defined (${HINT})`,
            frame: 'at Run (job.js:2)',
            clean: true,
          },
        },
      ],
    },
  },
  {
    name: 'Setup once per thread before its tasks, Teardown when the job ends',
    job: { program: SETUP, args: { k: 100 } },
    tasks: range(6),
    watch: ['setup'],
    expected: {
      outcomes: range(6).map((d) => ok(d, d + 100)),
      setup: { ran: true, linesMatch: true, teardownsMatch: true },
    },
  },
  {
    name: 'console lines collapse with counts, per task',
    job: {
      program: `function Run(d) {
  for (let i = 0; i < 50; i++) console.log('tick');
  console.warn('w', d, { d });
  return d;
}`,
    },
    tasks: range(3),
    watch: ['logs'],
    expected: {
      outcomes: range(3).map((d) => ok(d, d)),
      taskLogs: range(3).flatMap((d) => [
        { index: d, level: 'log', message: 'tick', count: 50 },
        { index: d, level: 'warn', message: `w ${d} {"d":${d}}`, count: 1 },
      ]),
    },
  },
  {
    name: 'events and collected series reach the submitter',
    job: {
      program: `function Run(d) {
  tabgrid.emit('task', { d });
  tabgrid.collect('loss', 1 / (d + 1));
  tabgrid.collect('loss', d);
  return d;
}`,
    },
    tasks: range(4),
    watch: ['events', 'series'],
    expected: {
      outcomes: range(4).map((d) => ok(d, d)),
      events: range(4).map((d) => ({ index: d, name: 'task', data: { d } })),
      series: range(4).map((d) => ({ label: 'loss', index: d, values: [1 / (d + 1), d] })),
    },
  },
  {
    name: 'typed arrays round-trip in tasks, args and results',
    job: {
      program: 'function Run(d, args) { return Float64Array.from(d.v, (x) => x * args.m[0]); }',
      args: { m: new Int32Array([3]) },
    },
    tasks: [{ v: new Float64Array([1, 2.5]) }],
    watch: [],
    expected: { outcomes: [ok(0, new Float64Array([3, 7.5]))] },
  },
  {
    name: 'a task waiting in tabgrid.next() gets the job.tell() message',
    job: {
      program:
        'async function Run(d) { tabgrid.progress(0); const m = await tabgrid.next(); return m.go + d; }',
    },
    tasks: [41],
    tell: { go: 1 },
    watch: [],
    expected: { outcomes: [ok(0, 42)] },
  },
  {
    name: 'a Setup that throws settles its tasks as `setup` with its error',
    job: {
      program: 'function Setup() { throw new Error("no model"); }\nfunction Run(d) { return d; }',
      maxAttempts: 2,
    },
    tasks: range(2),
    watch: [],
    expected: {
      outcomes: range(2).map((index) => ({
        index,
        ok: false,
        error: {
          type: 'setup',
          name: 'Error',
          message: 'no model',
          frame: 'at Setup (job.js:1)',
          clean: true,
        },
      })),
    },
  },
  {
    name: 'a task past timeoutMs times out; the others finish',
    job: {
      program: 'function Run(d) { if (d === 1) for (;;) {} return d; }',
      timeoutMs: 1_000,
      maxAttempts: 1,
    },
    tasks: range(3),
    watch: [],
    expected: {
      outcomes: [
        ok(0, 0),
        {
          index: 1,
          ok: false,
          error: {
            type: 'timeout',
            name: 'TimeoutError',
            message: 'Task 1 failed 1 time(s) (maxAttempts 1): Run did not finish within 1000 ms',
            frame: null,
            clean: true,
          },
        },
        ok(2, 2),
      ],
    },
  },
  {
    name: 'job code has no network',
    job: {
      program:
        'async function Run() { try { await fetch("http://127.0.0.1:9/"); return "fetched"; } catch (e) { return e.message; } }',
    },
    tasks: [0],
    watch: [],
    expected: {
      outcomes: [
        ok(0, 'TG sandbox: fetch is not available to job code (tasks run without network access)'),
      ],
    },
  },
  {
    name: 'a sloppy-mode program is refused at creation with the parser message',
    job: { program: 'function Run(d) { return d; }\nwith ({ a: 1 }) {}' },
    tasks: range(2),
    watch: [],
    expected: {
      refused: {
        code: 'TG_ERR_INVALID_PROGRAM',
        message:
          'The program does not parse: SyntaxError: Strict mode code may not include a with statement (job.js:2). Fix the syntax and create the job again.',
      },
      outcomes: [],
    },
  },
  {
    name: 'a program without Run is refused at creation',
    job: { program: 'function Go(d) { return d; }' },
    tasks: [0],
    watch: [],
    expected: {
      refused: {
        code: 'TG_ERR_INVALID_PROGRAM',
        message:
          'The program must define a function named Run, e.g. "function Run(input, args) { return input * 2 }".',
      },
      outcomes: [],
    },
  },
];

/** The first `at …` frame of a stack, its column dropped (engines may place it differently). */
function firstFrame(stack: string): string | null {
  const frame = /\n\s+(at .*?job\.js:\d+)(?::\d+)?\)?/.exec(stack);
  return frame ? `${frame[1]})`.replace('))', ')') : null;
}

function summarize(outcome: TaskOutcome): ObservedOutcome {
  if (outcome.ok) return { index: outcome.index, ok: true, value: outcome.value };
  const { type, name, message, stack } = outcome.error;
  // A clean stack: no runtime frames or data: URLs, and under 4 KB.
  const clean = !/data:|tabgrid-thread|node:|sandbox/.test(stack) && stack.length < 4096;
  return {
    index: outcome.index,
    ok: false,
    error: { type, name, message, frame: firstFrame(stack), clean },
  };
}

async function all<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

const byIndex = (a: { index: number | null }, b: { index: number | null }): number =>
  (a.index ?? -1) - (b.index ?? -1);

/** Teardown's lines may land after the log feed's end: read the feed again until they did. */
async function teardownLines(job: Job, want: number): Promise<number> {
  let count = 0;
  for (let i = 0; i < 40; i++) {
    const lines = await all(job.logs());
    count = lines.filter((l) => l.message === 'teardown').reduce((n, l) => n + l.count, 0);
    if (count >= want) return count;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return count;
}

/** Runs `c` on `tg` (a grid's client or a local one) and summarizes what happened. */
export async function observe(tg: Tabgrid, c: BehaviourCase): Promise<Observed> {
  let job: Job;
  try {
    job = await tg.createJob({ ...c.job, name: `parity: ${c.name}` });
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { refused: { code, message }, outcomes: [] };
  }
  const watch = new Set(c.watch);
  const logs = watch.has('logs') || watch.has('setup') ? all(job.logs()) : undefined;
  const events = watch.has('events') || watch.has('setup') ? all(job.events()) : undefined;
  const running = all(job.run(c.tasks));
  if (c.tell !== undefined) {
    for await (const p of job.progress()) if (p.index === 0) break;
    await job.tell(c.tell);
  }
  const outcomes = (await running).map(summarize).sort(byIndex);
  const observed: Observed = { outcomes };
  const lines = logs ? await logs : [];
  const emitted = events ? await events : [];
  if (watch.has('logs')) {
    observed.taskLogs = lines
      .filter((l) => l.index !== null)
      .map(({ index, level, message, count }) => ({ index: index!, level, message, count }))
      .sort((a, b) => a.index - b.index || a.message.localeCompare(b.message));
  }
  if (watch.has('events')) {
    observed.events = emitted
      .filter((e) => e.name !== 'setup')
      .map(({ index, name, data }) => ({ index, name, data }))
      .sort(byIndex);
  }
  if (watch.has('series')) {
    const series = [];
    for (const label of await job.seriesLabels()) {
      for (const { index, values } of await all(job.series(label))) {
        series.push({ label, index, values });
      }
    }
    observed.series = series.sort(byIndex);
  }
  if (watch.has('setup')) {
    const setups = (await job.status()).setups?.count ?? 0;
    const setupLines = lines.filter((l) => l.index === null && l.message === 'setup');
    const setupEvents = emitted.filter((e) => e.index === null && e.name === 'setup');
    observed.setup = {
      ran: setups >= 1,
      linesMatch:
        setupLines.reduce((n, l) => n + l.count, 0) === setups && setupEvents.length === setups,
      teardownsMatch: (await teardownLines(job, setups)) === setups,
    };
  }
  return observed;
}

/**
 * Generators of bad worker frames, each a pure function of a seeded {@link Rng}: the same seed
 * sends the same attack. Every kind of mistake a broken or hostile client can make in a frame:
 * bytes that are not text, text that is not JSON, JSON of the wrong shape, numbers out of
 * every range, and frames that are valid one by one but wrong in order.
 */
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import type { Rng } from '../random.js';

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng.next() * items.length)] as T;
}

export function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng.next() * (max - min + 1));
}

export function randomBytes(rng: Rng, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(rng.next() * 256);
  return bytes;
}

/** Random binary frames: noise, noise behind a plausible header length, tiny frames. */
export function garbageBinary(rng: Rng): Uint8Array {
  const bytes = randomBytes(rng, pick(rng, [0, 1, 3, 4, 5, 16, 200, int(rng, 0, 4096)]));
  if (bytes.length >= 4 && rng.chance(0.5)) {
    // A header length that fits, exceeds or overflows the frame.
    const view = new DataView(bytes.buffer);
    view.setUint32(
      0,
      pick(rng, [0, bytes.length - 4, bytes.length, 0xffffffff, int(rng, 0, 1e6)]),
      true,
    );
  }
  return bytes;
}

/** Random text frames: noise, invalid UTF-8 turned text, control characters, near-JSON. */
export function garbageText(rng: Rng): string {
  const length = pick(rng, [0, 1, 2, 10, int(rng, 0, 2048)]);
  let text = '';
  for (let i = 0; i < length; i++)
    text += String.fromCharCode(int(rng, 0, rng.chance(0.2) ? 0xffff : 127));
  return pick(rng, [
    text,
    `{${text}`,
    `[${text}]`,
    `"${text}"`,
    `\u0000${text}`,
    text.replace(/[\ud800-\udfff]/g, ''),
  ]);
}

const VALID: readonly string[] = [
  JSON.stringify({
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    threads: 1,
    userAgent: 'x',
    credit: 0,
  }),
  JSON.stringify({ type: 'credit', slots: 0 }),
  JSON.stringify({ type: 'outcomes', credit: 0, items: [] }),
  JSON.stringify({ type: 'release', tasks: [] }),
  JSON.stringify({
    type: 'outcomes',
    credit: 0,
    items: [
      { jobId: 'j', index: 0, ms: 1, ok: false, error: { name: 'E', message: 'm', stack: '' } },
    ],
  }),
  // The task model's frames (issue 13): a report, a sample, an outcome with series.
  JSON.stringify({
    type: 'report',
    items: [
      {
        jobId: 'j',
        index: 0,
        progress: 0.5,
        logs: [{ level: 'log', message: 'm', count: 2, at: 1 }],
        events: [{ name: 'e', data: { a: 1 }, at: 1 }],
        dropped: { logs: 1 },
      },
      { jobId: 'j', index: null, setup: { ms: 1, ok: true } },
    ],
  }),
  JSON.stringify({
    type: 'sample',
    busyMs: [1],
    intervalMs: 5000,
    tasks: 1,
    heapUsed: null,
    jobs: [{ jobId: 'j', busyMs: 1 }],
  }),
  JSON.stringify({
    type: 'outcomes',
    credit: 0,
    items: [
      { jobId: 'j', index: 0, ms: 1, ok: true, value: 1, series: [{ label: 'x', values: [1] }] },
    ],
  }),
];

/** Values of every JSON type and none, for putting where another type belongs. */
const WRONG_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0,
  1e308,
  -1e308,
  2 ** 53 + 1,
  'NaN',
  'Infinity',
  '-Infinity',
  '1e308',
  '',
  'x'.repeat(300),
  [],
  [1, 2],
  {},
  { type: 'hello' },
  [[[[[]]]]],
];

const NUMBERS: readonly unknown[] = [
  -1,
  -0.5,
  0.5,
  1.5,
  1e308,
  -1e308,
  1e21,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 64,
  Number.MAX_SAFE_INTEGER,
  'NaN',
  'Infinity',
  '1',
  null,
  true,
  [],
  {},
];

/** JSON that is not a valid frame: truncated, wrong types, unknown types, numbers out of range. */
export function badJson(rng: Rng): string {
  const base = pick(rng, VALID);
  switch (int(rng, 0, 9)) {
    case 0: // truncated
      return base.slice(0, int(rng, 0, base.length - 1));
    case 1: // a valid frame with one field of the wrong type
    case 2: {
      const frame = JSON.parse(base) as Record<string, unknown>;
      const key = pick(rng, Object.keys(frame));
      frame[key] = pick(rng, WRONG_VALUES);
      return JSON.stringify(frame);
    }
    case 3: {
      // a field missing
      const frame = JSON.parse(base) as Record<string, unknown>;
      delete frame[pick(rng, Object.keys(frame))];
      return JSON.stringify(frame);
    }
    case 4: // numbers out of range where numbers belong
      return JSON.stringify(
        pick(rng, [
          {
            type: 'hello',
            protocol: PROTOCOL_VERSION,
            threads: pick(rng, NUMBERS),
            userAgent: 'x',
            credit: 0,
          },
          {
            type: 'hello',
            protocol: PROTOCOL_VERSION,
            threads: 1,
            userAgent: 'x',
            credit: pick(rng, NUMBERS),
          },
          { type: 'hello', protocol: pick(rng, NUMBERS), threads: 1, userAgent: 'x', credit: 0 },
          { type: 'credit', slots: pick(rng, NUMBERS) },
          { type: 'outcomes', credit: pick(rng, NUMBERS), items: [] },
          {
            type: 'outcomes',
            credit: 0,
            items: [{ jobId: 'j', index: pick(rng, NUMBERS), ms: 1, ok: true, value: 1 }],
          },
          {
            type: 'outcomes',
            credit: 0,
            items: [{ jobId: 'j', index: 0, ms: pick(rng, NUMBERS), ok: true, value: 1 }],
          },
          { type: 'report', items: [{ jobId: 'j', index: 0, progress: pick(rng, NUMBERS) }] },
          {
            type: 'report',
            items: [
              {
                jobId: 'j',
                index: 0,
                logs: [{ level: 'log', message: 'm', count: pick(rng, NUMBERS), at: 1 }],
              },
            ],
          },
          {
            type: 'sample',
            busyMs: [pick(rng, NUMBERS)],
            intervalMs: pick(rng, NUMBERS),
            tasks: 1,
            heapUsed: pick(rng, NUMBERS),
            jobs: [],
          },
        ]),
      );
    case 5: // unknown or missing type, wrong top-level value
      return JSON.stringify(
        pick(rng, [
          { type: 'welcome' },
          { type: 'tasks', items: [] },
          { type: 'HELLO' },
          {},
          [],
          42,
          'hello',
          null,
          { type: null },
        ]),
      );
    case 6: // prototype keys
      return pick(rng, [
        '{"type":"credit","slots":1,"__proto__":{"polluted":true}}',
        '{"__proto__":{"type":"credit"},"slots":1}',
        '{"type":"outcomes","credit":0,"items":[{"__proto__":{"ok":true},"jobId":"j","index":0,"ms":1}]}',
        '{"type":"release","tasks":[{"constructor":{"prototype":{"x":1}},"jobId":"j","index":0}]}',
      ]);
    case 7: // duplicate keys, trailing garbage, comments, NaN literals
      return pick(rng, [
        '{"type":"credit","slots":1,"slots":-5}',
        `${base} trailing`,
        `${base}${base}`,
        '{"type":"credit","slots":NaN}',
        '{"type":"credit","slots":Infinity}',
        '{"type":"credit", /* c */ "slots":1}',
        "{'type':'credit','slots':1}",
      ]);
    case 8: // wrong item shapes inside valid envelopes
      return JSON.stringify(
        pick(rng, [
          { type: 'outcomes', credit: 0, items: [pick(rng, WRONG_VALUES)] },
          {
            type: 'outcomes',
            credit: 0,
            items: [{ jobId: '', index: 0, ms: 1, ok: true, value: 1 }],
          },
          {
            type: 'outcomes',
            credit: 0,
            items: [{ jobId: 'j'.repeat(65), index: 0, ms: 1, ok: true, value: 1 }],
          },
          {
            type: 'outcomes',
            credit: 0,
            items: [{ jobId: 'j', index: 0, ms: 1, ok: 'yes', value: 1 }],
          },
          {
            type: 'outcomes',
            credit: 0,
            items: [{ jobId: 'j', index: 0, ms: 1, ok: false, error: 'boom' }],
          },
          { type: 'release', tasks: [pick(rng, WRONG_VALUES)] },
          { type: 'release', tasks: { jobId: 'j', index: 0 } },
        ]),
      );
    default: // valid JSON, wrong encoding tricks
      return pick(rng, [
        `\ufeff${base}`,
        base.replace(/"/g, '\u201c'),
        base.toUpperCase(),
        ` \n\t${base}\n `,
        base.replace('"type"', '"ty\\u0070e"'),
      ]);
  }
}

/** Frames that are each well formed but sent where they are not allowed. */
export function outOfOrder(rng: Rng): { helloFirst: boolean; frames: string[] } {
  const hello = (threads: unknown = 1, protocol: unknown = PROTOCOL_VERSION) =>
    JSON.stringify({ type: 'hello', protocol, threads, userAgent: 'order', credit: 0 });
  switch (int(rng, 0, 4)) {
    case 0: // anything before hello
      return {
        helloFirst: false,
        frames: [
          pick(rng, [
            JSON.stringify({ type: 'credit', slots: 10 }),
            JSON.stringify({ type: 'outcomes', credit: 5, items: [] }),
            JSON.stringify({ type: 'release', tasks: [{ jobId: 'j', index: 0 }] }),
          ]),
          hello(),
        ],
      };
    case 1: // hello twice, or many times
      return { helloFirst: true, frames: Array.from({ length: int(rng, 1, 20) }, () => hello()) };
    case 2: // another protocol version
      return {
        helloFirst: false,
        frames: [hello(1, pick(rng, [0, -1, PROTOCOL_VERSION + 1, 2 ** 31, 1.5, '1']))],
      };
    case 3: // threads out of range
      return { helloFirst: false, frames: [hello(pick(rng, [0, -1, 1025, 1e6, 1.5, '8', null]))] };
    default: // hello, then a torrent of valid no-ops
      return {
        helloFirst: true,
        frames: Array.from({ length: 30 }, () =>
          pick(rng, [
            JSON.stringify({ type: 'credit', slots: 0 }),
            JSON.stringify({ type: 'outcomes', credit: 0, items: [] }),
            JSON.stringify({ type: 'release', tasks: [] }),
          ]),
        ),
      };
  }
}

/** A value nested `depth` levels deep, as JSON text (built as text: no recursion here). */
export function deepJson(depth: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

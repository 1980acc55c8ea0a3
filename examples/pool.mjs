// Process-pool verbs over the grid: map, imap, unorderedImap, mapAsync and star(). Start the
// server (`npm start`), open http://127.0.0.1:8080/ in a browser tab or two, then:
//   TABGRID_TOKEN=<token printed by npm start> node examples/pool.mjs
import { Tabgrid, TaskFailedError } from '@tabgrid/sdk';

const tg = new Tabgrid({ url: process.env.TABGRID_URL ?? 'http://127.0.0.1:8080' }); // token from TABGRID_TOKEN

// A pool holds a program and job options; each call below is one job named 'squares'.
const squares = tg.pool((x) => x * x, { name: 'squares' });

// map: every value, in input order.
console.log('map:', await squares.map([1, 2, 3, 4]));

// imap: in input order, each value as soon as every earlier one is out. Submission stays at
// most `window` tasks (default 10,000) ahead of the next value, so memory stays bounded.
const ordered = [];
for await (const v of squares.imap([5, 6, 7], { window: 100 })) ordered.push(v);
console.log('imap:', ordered);

// unorderedImap: values as tasks finish (the fastest way through).
let sum = 0;
for await (const v of squares.unorderedImap([1, 2, 3, 4, 5])) sum += v;
console.log('unorderedImap sum:', sum);

// mapAsync: starts now, gives a handle.
const handle = squares.mapAsync([8, 9]);
await handle.wait();
console.log('mapAsync:', handle.ready(), await handle.get({ timeoutMs: 30_000 }));

// star(): each task is a tuple spread over the function's parameters...
const pow = tg.pool((base, exp) => base ** exp, { name: 'pow' });
console.log(
  'star:',
  await pow.star().map([
    [2, 10],
    [3, 3],
  ]),
);
// ...and the pool's args, when it has some, come last.
const scaled = tg.pool((a, b, args) => (a + b) * args.k, { name: 'scaled', args: { k: 10 } });
console.log(
  'star with args:',
  await scaled.star().map([
    [1, 2],
    [3, 4],
  ]),
);

// A failed task rejects the call with a TaskFailedError (and cancels the rest of the job).
const picky = tg.pool(
  (x) => {
    if (x === 2) throw new RangeError('two is not allowed');
    return x;
  },
  { name: 'picky' },
);
try {
  await picky.map([1, 2, 3]);
} catch (error) {
  if (!(error instanceof TaskFailedError)) throw error;
  console.log(`task ${error.index} failed: ${error.failure.name}: ${error.failure.message}`);
}

// An AbortSignal cancels the call's job; the loop throws TG_ERR_JOB_CANCELLED (reason 'aborted').
const controller = new AbortController();
let seen = 0;
try {
  const inputs = Array.from({ length: 10_000 }, (_, i) => i);
  for await (const v of squares.imap(inputs, { signal: controller.signal })) {
    void v;
    seen += 1;
    if (seen === 3) controller.abort();
  }
} catch (error) {
  console.log(`aborted after ${seen} values: ${error.code} (${error.reason})`);
}

await tg.close();

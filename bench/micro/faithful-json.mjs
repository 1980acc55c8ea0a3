// Micro-benchmark of the faithful-JSON check (packages/protocol/src/faithful-json.ts) against
// the serialization it precedes: what the check adds per task (SDK submit) and per result (job
// thread), for typical shapes. Figures only, nothing asserted (no timing in tests).
//
//   node bench/micro/faithful-json.mjs [--ms 300]
import { parseArgs } from 'node:util';
import { faithfulJson } from '@tabgrid/protocol/faithful-json';
import { MAX_VALUE_DEPTH } from '@tabgrid/protocol/limits';

const { values } = parseArgs({ options: { ms: { type: 'string', default: '300' } } });
const budgetMs = Number(values.ms);
const { unfaithful } = faithfulJson(MAX_VALUE_DEPTH);

const SHAPES = {
  integer: 12345,
  'short string': 'hello world',
  'small object': { id: 7, name: 'x', ok: true },
  '100 numbers': Array.from({ length: 100 }, (_, i) => i * 1.5),
  'nested 3 x 10': Object.fromEntries(
    Array.from({ length: 10 }, (_, i) => [
      `k${i}`,
      Object.fromEntries(Array.from({ length: 10 }, (_, j) => [`j${j}`, { v: j, s: 'ab' }])),
    ]),
  ),
  'Float64Array(1024)': new Float64Array(1024),
};

/** Nanoseconds per call of `fn`, best of 5 slices of the budget. */
function nsPerCall(fn) {
  let best = Infinity;
  for (let slice = 0; slice < 5; slice++) {
    let calls = 0;
    const end = performance.now() + budgetMs / 5;
    let started = performance.now();
    while (performance.now() < end) {
      for (let i = 0; i < 100; i++) fn();
      calls += 100;
    }
    best = Math.min(best, ((performance.now() - started) * 1e6) / calls);
  }
  return best;
}

let sink = 0;
console.log('shape                 check ns   JSON.stringify ns   check / stringify');
for (const [name, value] of Object.entries(SHAPES)) {
  const check = nsPerCall(() => {
    if (unfaithful(value, 'tasks', 3, false) !== undefined) sink++;
  });
  const stringify = nsPerCall(() => {
    sink += JSON.stringify(value)?.length ?? 0;
  });
  console.log(
    `${name.padEnd(20)} ${check.toFixed(1).padStart(9)} ${stringify.toFixed(1).padStart(19)} ${(
      check / stringify
    )
      .toFixed(2)
      .padStart(19)}`,
  );
}
if (sink < 0) console.log(sink);

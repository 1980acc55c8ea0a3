// A/B of the job thread's per-result path with and without the faithful-JSON check: the real
// thread script (as the page ships it) in a V8 context over a real MessageChannel, running
// chunks of trivial tasks (d => d * 2, as the throughput scenario does), alternating A and B.
// Prints tasks/s of each and their ratio; nothing asserted.
//
//   node bench/micro/thread-results.mjs [--tasks 200000] [--rounds 6]
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import { SANDBOX_WORKER_SOURCE } from '@tabgrid/job-runtime/thread-source';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '6' },
  },
});
const TASKS = Number(values.tasks);
const CHUNK = 1000;

const CHECKED = SANDBOX_WORKER_SOURCE;
const UNCHECKED = SANDBOX_WORKER_SOURCE.replace(
  'const json = resultToJson(value);',
  'const json = toJson(value);',
);
if (UNCHECKED === CHECKED) throw new Error('the thread source has no resultToJson call to replace');

function start(source) {
  const scope = { onmessage: null };
  runInNewContext(source, Object.assign(scope, { performance, MessageChannel, atob, btoa }));
  const channel = new MessageChannel();
  let waiting;
  channel.port1.onmessage = (event) => waiting?.(event.data);
  scope.onmessage({ ports: [channel.port2] });
  return {
    send: (m) => channel.port1.postMessage(m),
    next: (type) =>
      new Promise((resolve) => {
        waiting = (m) => {
          if (m.type === type && (type !== 'results' || m.done)) resolve(m);
        };
      }),
    close: () => channel.port1.close(),
  };
}

async function tasksPerSecond(source) {
  const t = start(source);
  await t.next('ready');
  t.send({ type: 'load', jobId: 'j', program: 'var Run = ((d) => d * 2);', args: null });
  await t.next('loaded');
  const chunks = [];
  for (let c = 0; c < TASKS / CHUNK; c++) {
    chunks.push(
      JSON.stringify(Array.from({ length: CHUNK }, (_, i) => ({ index: c * CHUNK + i, input: i }))),
    );
  }
  const started = performance.now();
  for (let c = 0; c < chunks.length; c++) {
    const done = t.next('results');
    t.send({ type: 'run', chunkId: c, tasks: chunks[c], flushEach: false });
    await done;
  }
  const seconds = (performance.now() - started) / 1000;
  t.close();
  return TASKS / seconds;
}

const a = [];
const b = [];
for (let round = 0; round < Number(values.rounds); round++) {
  // Alternate which goes first, so drift of a busy machine colours both alike.
  if (round % 2 === 0) {
    a.push(await tasksPerSecond(UNCHECKED));
    b.push(await tasksPerSecond(CHECKED));
  } else {
    b.push(await tasksPerSecond(CHECKED));
    a.push(await tasksPerSecond(UNCHECKED));
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const fmt = (x) => Math.round(x).toLocaleString('en-US');
console.log(`without the check  tasks/s ${fmt(median(a))}  (${a.map(fmt).join(', ')})`);
console.log(`with the check     tasks/s ${fmt(median(b))}  (${b.map(fmt).join(', ')})`);
console.log(`with / without     ${(median(b) / median(a)).toFixed(3)}`);

// The README's first program. Start the server (`npm start`), open http://127.0.0.1:8080/ in a
// browser tab or two, then:  TABGRID_TOKEN=<token printed by npm start> node examples/quickstart.mjs
import { Tabgrid } from '@tabgrid/sdk';

const tg = new Tabgrid({ url: process.env.TABGRID_URL ?? 'http://127.0.0.1:8080' }); // token from TABGRID_TOKEN

// A program is JavaScript source that defines Run, or a function (sent as source: no closures).
const job = await tg.createJob({ program: (d) => d * 2, name: 'double' });
let sum = 0;
for await (const out of job.run([1, 2, 3, 4, 5])) {
  // Outcomes arrive unordered, as fast as the tabs produce them.
  if (out.ok) sum += out.value;
  else console.error(`task ${out.index} failed: ${out.error.message}`);
}
console.log(`sum of doubles: ${sum}`);

// map() collects results in input order and rejects naming any failed index.
const squares = await tg.createJob({
  program: 'function Run(d) { return d * d }',
  name: 'squares',
});
console.log('squares:', await squares.map([1, 2, 3, 4]));

// Chaining: one job's results become the next job's tasks, in one line.
const plusOne = await tg.createJob({ program: (d) => d + 1, name: 'plus-one' });
const chained = await tg.createJob({ program: (d) => d * 10, name: 'times-ten' });
const done = plusOne.map([1, 2, 3]);
const tens = [];
for await (const out of chained.run(plusOne.results().map((r) => r.value)))
  if (out.ok) tens.push(out.value);
await done;
console.log(
  'chained:',
  tens.sort((a, b) => a - b),
);

await tg.close();

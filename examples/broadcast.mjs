// One job's results read once and handed to three consumers, paced by the slowest; and the
// stream operators filter, take and batch. Start the server (`npm start`), open
// http://127.0.0.1:8080/ in a browser tab, then:
//   TABGRID_TOKEN=<token printed by npm start> node examples/broadcast.mjs
import { broadcast, Tabgrid } from '@tabgrid/sdk';

const tg = new Tabgrid({ url: process.env.TABGRID_URL ?? 'http://127.0.0.1:8080' }); // token from TABGRID_TOKEN
const inputs = Array.from({ length: 100 }, (_, i) => i);

const squares = await tg.createJob({ program: (x) => x * x, name: 'broadcast-squares' });
const values = squares.run(inputs).map((o) => (o.ok ? o.value : Number.NaN));

// Each consumer gets its own async iterable of every value; the fastest runs at most 1,000
// values ahead of the slowest (broadcastWith({ buffer }, …) to change that).
const [count, sum, top] = await broadcast(
  values,
  async (items) => {
    let n = 0;
    for await (const _ of items) n += 1;
    return n;
  },
  async (items) => {
    let total = 0;
    for await (const v of items) total += v;
    return total;
  },
  async (items) => {
    const all = [];
    for await (const v of items) {
      all.push(v);
      await new Promise((resolve) => setTimeout(resolve, 1)); // a slow consumer: the others wait
    }
    return all.sort((a, b) => b - a).slice(0, 3);
  },
);
console.log(`count: ${count}, sum: ${sum}, top 3: ${top.join(', ')}`);

// filter, take, batch: chained on any outcome stream. take() stops the subscription as soon as
// it has enough.
const cubes = await tg.createJob({ program: (x) => x ** 3, name: 'broadcast-cubes' });
const firstEven = [];
for await (const o of cubes
  .run(inputs)
  .filter((o) => o.ok && o.value % 2 === 0)
  .take(5)) {
  firstEven.push(o.value);
}
console.log(
  `first 5 even cubes: ${firstEven.length} values, all even: ${firstEven.every((v) => v % 2 === 0)}`,
);
await cubes.cancel(); // we took what we wanted

const sizes = [];
for await (const rows of squares.results().batch(30)) sizes.push(rows.length);
console.log(`results in batches of 30: ${sizes.join(', ')}`);

await tg.close();

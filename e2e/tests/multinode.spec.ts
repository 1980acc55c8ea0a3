/**
 * Issue 15: several nodes on one PostgreSQL with real tabs. Three server processes on one
 * database; a worker tab on node 1 and one on node 2; the SDK on node 3, which has no tab,
 * submits a job: both tabs compute it, every index arrives once with its value, and node 3's
 * dashboard (like every node's) shows both workers. And typed arrays across nodes (issue 18): a
 * batch submitted on one node, claimed and run by a tab of another, keeps every byte both ways.
 */
import { expect, test, type Page } from '@playwright/test';
import { Tabgrid, type TaskOutcome } from '@tabgrid/sdk';
import {
  ADMIN_TOKEN,
  assertExactlyOnce,
  createTestDatabase,
  startNodes,
  type ServerProcess,
  type TestDatabase,
} from '@tabgrid/server/testing';

const PG = process.env.TABGRID_TEST_DATABASE_URL;
if (!PG && process.env.CI) {
  throw new Error('multinode.spec.ts needs TABGRID_TEST_DATABASE_URL (.ci/run starts PostgreSQL).');
}
test.skip(!PG, 'set TABGRID_TEST_DATABASE_URL (scripts/postgres-test-cluster.sh) to run it');

let db: TestDatabase | undefined;
const nodes: ServerProcess[] = [];

test.afterEach(async () => {
  for (const node of nodes.splice(0)) await node.stop();
  await db?.drop();
  db = undefined;
});

/** `count` nodes on one new database (node-1 … node-`count`). */
async function startGridNodes(count: number): Promise<ServerProcess[]> {
  db = await createTestDatabase(PG!);
  nodes.push(...(await startNodes(db.url, count, 5000)));
  return nodes;
}

async function tasksDone(page: Page): Promise<number> {
  return Number((await page.getByTestId('tasks-done').textContent())?.replace(/,/g, ''));
}

test('tabs on two nodes compute one job submitted on a third; every dashboard shows both', async ({
  browser,
}) => {
  const [n1, n2, n3] = (await startGridNodes(3)) as [ServerProcess, ServerProcess, ServerProcess];
  const context = await browser.newContext();
  const tabs: Page[] = [];
  for (const node of [n1, n2]) {
    const tab = await context.newPage();
    await tab.goto(`${node.url}/`);
    await expect(tab.getByTestId('connection-state')).toHaveText('connected');
    tabs.push(tab);
  }

  const tg = new Tabgrid({ url: n3.url, token: ADMIN_TOKEN });
  const job = await tg.createJob({
    name: 'two-node-job',
    // ~2 ms of work per task, so both tabs get a share however fast one claims.
    program: `function Run(d) { const end = Date.now() + 2; while (Date.now() < end); return d * 2 + 1 }`,
  });
  const total = 3000;
  const outcomes: TaskOutcome[] = [];
  for await (const out of job.run(Array.from({ length: total }, (_, i) => i))) outcomes.push(out);
  assertExactlyOnce(total, outcomes, { expected: (i) => i * 2 + 1 });
  expect(await job.status()).toMatchObject({ state: 'done', total, finished: total });
  // Each tab's own count (it follows the sent outcomes on its own tick).
  for (const tab of tabs) await expect.poll(() => tasksDone(tab)).toBeGreaterThan(0);
  await expect
    .poll(async () => (await tasksDone(tabs[0]!)) + (await tasksDone(tabs[1]!)))
    .toBe(total);

  // The dashboard of the node without tabs lists the workers of the other two.
  for (const node of [n3, n1]) {
    const page = await context.newPage();
    await page.goto(`${node.url}/dashboard/`);
    await page.getByTestId('token-input').fill(ADMIN_TOKEN);
    await page.getByTestId('sign-in-button').click();
    await expect(page.getByTestId('stat-workers')).toHaveAttribute('data-value', '2');
    await page.getByTestId('nav-workers').click();
    await expect(page.getByTestId('worker-row')).toHaveCount(2);
    await page.close();
  }
  await tg.close();
  await context.close();
});

test('typed arrays submitted on one node and run by a tab of another keep every byte', async ({
  browser,
}) => {
  const [n1, n2] = (await startGridNodes(2)) as [ServerProcess, ServerProcess];
  const context = await browser.newContext();
  const tab = await context.newPage();
  await tab.goto(`${n1.url}/`);
  await expect(tab.getByTestId('connection-state')).toHaveText('connected');

  const tg = new Tabgrid({ url: n2.url, token: ADMIN_TOKEN });
  const job = await tg.createJob({
    name: 'bytes-across-nodes',
    // Each result array made from the input's bytes: it shows the tab saw every one as sent.
    program: `function Run(t) {
      const bytes = new Uint8Array(t.f.buffer, t.f.byteOffset, t.f.byteLength);
      return { i: t.i, sum: bytes.reduce((a, x) => a + x, 0), back: Float64Array.from(t.f).reverse() };
    }`,
  });
  const total = 300;
  const input = (i: number) => ({
    i,
    f: Float32Array.from({ length: 64 + (i % 13) }, (_, k) => Math.sin(i * 17 + k) * 1e3),
  });
  const problems: string[] = [];
  const outcomes: TaskOutcome[] = [];
  for await (const out of job.run(Array.from({ length: total }, (_, i) => input(i)))) {
    outcomes.push(out);
    if (!out.ok) continue; // assertExactlyOnce below names it
    const { f } = input(out.index);
    const r = out.value as { i: number; sum: number; back: Float64Array };
    const sum = new Uint8Array(f.buffer).reduce((a, x) => a + x, 0);
    const back = Float64Array.from(f).reverse();
    if (r.i !== out.index || r.sum !== sum)
      problems.push(`task ${out.index}: the tab saw other bytes`);
    if (!(r.back instanceof Float64Array) || r.back.join() !== back.join()) {
      problems.push(`task ${out.index}: its result's bytes differ`);
    }
  }
  assertExactlyOnce(total, outcomes);
  expect(problems).toEqual([]);
  await expect.poll(() => tasksDone(tab)).toBe(total); // node 2 has no tab: node 1 ran all
  await tg.close();
  await context.close();
});

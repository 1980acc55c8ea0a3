/**
 * `replayTask` (SDK, local/replay.ts) against a real server whose tasks ran on simulated
 * workers: the job's program, args and one task's input come back from the server (`job:task`)
 * and run again in a local worker thread, giving the value, or the error with its stack on the
 * program's own lines, and the task's console lines.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, replayTask, type TaskOutcome } from '@tabgrid/sdk';
import { serverPerTest } from '@tabgrid/server/testing/vitest';
import { Fleet } from './fleet.js';

const env = serverPerTest();

const PROGRAM = [
  'let scale;',
  'function Setup(args) { scale = args.scale; console.log("setup"); }',
  'function Run(d, args) {',
  '  console.log("pixel", d.p);',
  '  if (d.p === 7) throw new Error("bad pixel " + d.p);',
  '  return { v: d.p * scale, bytes: d.bytes, first: args.table[0] };',
  '}',
].join('\n');

async function settledJob() {
  const fleet = env.adopt(new Fleet({ url: env.wsUrl, workers: 1, credit: 8 }));
  await fleet.start();
  const job = await env.tg.createJob({
    program: PROGRAM,
    name: 'replay',
    args: { scale: 3, table: new Float64Array([2.5, 1]) },
  });
  const inputs = Array.from({ length: 10 }, (_, p) => ({ p, bytes: new Uint8Array([p, 255]) }));
  const outcomes: TaskOutcome[] = [];
  for await (const o of job.run(inputs)) outcomes.push(o);
  return { job, outcomes };
}

describe('replayTask', () => {
  it("reruns a failed task locally: its error, with a stack on the program's line", async () => {
    const { job, outcomes } = await settledJob();
    const onGrid = outcomes.find((o) => o.index === 7);
    expect(onGrid?.ok).toBe(false);

    const replayed = await replayTask(env.tg, job.id, 7);
    expect(replayed.ok).toBe(false);
    if (replayed.ok) return;
    expect(replayed.error).toMatchObject({
      type: 'program',
      name: 'Error',
      message: 'bad pixel 7',
    });
    expect(replayed.error.stack).toMatch(/^Error: bad pixel 7\n {4}at Run \(job\.js:5:\d+\)/);
    expect(replayed.error.stack).not.toMatch(/tabgrid-thread|node:|data:/);
    // Setup ran first (its line has no task index), then the task's own line.
    expect(replayed.logs).toEqual([
      { index: null, level: 'log', message: 'setup', count: 1 },
      { index: 7, level: 'log', message: 'pixel 7', count: 1 },
    ]);
  });

  it('reruns a settled task with its typed-array input and args, and gives its value', async () => {
    const { job } = await settledJob();
    const replayed = await replayTask(env.tg, job.id, 4);
    expect(replayed).toMatchObject({ ok: true, value: { v: 12, first: 2.5 } });
    const value = (replayed as { value: { bytes: unknown } }).value;
    expect(value.bytes).toEqual(new Uint8Array([4, 255]));
  });

  it('says so for a task the job does not have', async () => {
    const { job } = await settledJob();
    await expect(replayTask(env.tg, job.id, 10)).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
      message: expect.stringContaining('has no task 10'),
    });
  });
});

/** The progress board: latest value per running task, coalesced pushes, entries that go. */
import { describe, expect, it } from 'vitest';
import { PROGRESS_PUSH_MS, type TaskProgressView } from './progress-board.js';
import { FakeClock } from './testing/fake-clock.js';
import { admin, answer, connect, env, ok, reopen, settle, useHarness } from './testing/harness.js';

useHarness();

async function running(tasks: number) {
  const clock = new FakeClock();
  await reopen({ clock });
  const job = await env.scheduler.createJob(admin, {
    program: 'function Run(d){return d}',
    timeoutMs: 600_000,
  });
  await env.scheduler.submit(admin, job.id, 'b1', [...Array(tasks).keys()]);
  const w = connect(tasks, { threads: tasks });
  await settle();
  expect(w.tasks()).toHaveLength(tasks);
  return { clock, job, w, board: env.scheduler.progressBoard };
}

describe('ProgressBoard', () => {
  it('pushes each listener the latest value per task at most every 250 ms', async () => {
    const { clock, job, w, board } = await running(2);
    const pushes: TaskProgressView[][] = [];
    const stop = board.onChange(job.id, (changed) => pushes.push([...changed]));
    for (let i = 1; i <= 1_000; i++) board.progress(job.id, 0, w.session.id, i / 1_000);
    board.started(job.id, 1, w.session.id);
    expect(pushes).toHaveLength(0);
    clock.advance(PROGRESS_PUSH_MS);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.map((p) => [p.index, p.fraction])).toEqual([
      [0, 1],
      [1, undefined],
    ]);
    clock.advance(10 * PROGRESS_PUSH_MS); // nothing changed: nothing pushed
    expect(pushes).toHaveLength(1);
    board.progress(job.id, 1, w.session.id, null); // "alive" keeps no fraction
    clock.advance(PROGRESS_PUSH_MS);
    expect(pushes[1]!.map((p) => p.index)).toEqual([1]);
    stop();
    board.progress(job.id, 1, w.session.id, 0.5);
    clock.advance(PROGRESS_PUSH_MS);
    expect(pushes).toHaveLength(2);
    expect(board.snapshot(job.id).map((p) => [p.index, p.fraction])).toEqual([
      [0, 1],
      [1, 0.5],
    ]);
  });

  it('arms no timer while nobody listens; a settled task leaves the board and the next push', async () => {
    const { clock, job, w, board } = await running(2);
    board.progress(job.id, 0, w.session.id, 0.1);
    expect(clock.pendingTimeouts()).toEqual([]);
    const pushes: TaskProgressView[][] = [];
    board.onChange(job.id, (changed) => pushes.push([...changed]));
    board.progress(job.id, 0, w.session.id, 0.2);
    board.progress(job.id, 1, w.session.id, 0.3);
    answer(w.session, [ok(w.tasks()[0]!)]);
    await settle();
    clock.advance(PROGRESS_PUSH_MS);
    expect(pushes.map((p) => p.map((v) => v.index))).toEqual([[1]]);
    expect(board.size).toBe(1);
  });

  it('a listener that throws does not stop the others', async () => {
    const { clock, job, w, board } = await running(1);
    let heard = 0;
    board.onChange(job.id, () => {
      throw new Error('bad listener');
    });
    board.onChange(job.id, () => heard++);
    board.progress(job.id, 0, w.session.id, 0.5);
    clock.advance(PROGRESS_PUSH_MS);
    expect(heard).toBe(1);
  });
});

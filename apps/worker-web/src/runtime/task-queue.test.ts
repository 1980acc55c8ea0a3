import { describe, expect, it } from 'vitest';
import type { ThreadTask } from '@tabgrid/job-runtime/sandbox-protocol';
import type { LocalJob } from '../sandbox/chunk';
import { FIRST_CHUNK, MAX_CHUNK, STICKY_MS, TaskQueue, chunkSize } from './task-queue';

const base = {
  program: '',
  args: null,
  timeoutMs: 1000,
  setupTimeoutMs: 1000,
  seriesFull: '',
  webgpu: false,
};
const jobA: LocalJob = { ...base, key: 1, jobId: 'a', messages: [] };
const jobB: LocalJob = { ...base, key: 2, jobId: 'b', messages: [] };
const tasks = (from: number, count: number): ThreadTask[] =>
  Array.from({ length: count }, (_, i) => ({ index: from + i, input: from + i }));
const indices = (chunk: { tasks: ThreadTask[] } | undefined) => chunk?.tasks.map((t) => t.index);

describe('chunkSize', () => {
  it('starts small for a job that has not been timed', () => {
    expect(chunkSize(10_000, 4, undefined)).toBe(FIRST_CHUNK);
  });
  it('uses big chunks for tiny tasks, single tasks for slow ones', () => {
    expect(chunkSize(100_000, 4, 0.001)).toBe(MAX_CHUNK);
    expect(chunkSize(10_000, 4, 0.001)).toBe(2500);
    expect(chunkSize(10_000, 4, 500)).toBe(1);
    expect(chunkSize(10_000, 4, 5)).toBe(10);
  });
  it('shares a short queue between threads', () => {
    expect(chunkSize(10, 4, 0.001)).toBe(3);
    expect(chunkSize(1, 8, 0.001)).toBe(1);
  });
});

describe('TaskQueue', () => {
  it('is FIFO within a job and ignores tasks of unknown jobs', () => {
    const queue = new TaskQueue();
    queue.push(jobA, tasks(0, 3), 0);
    expect(queue.size).toBe(0);
    queue.addJob(jobA);
    queue.push(jobA, tasks(0, 3), 0);
    queue.push(jobA, tasks(3, 2), 0);
    queue.recordTiming(jobA, 10, 0.01);
    expect(indices(queue.take(undefined, 1, 0))).toEqual([0, 1, 2, 3, 4]);
    expect(queue.take(undefined, 1, 0)).toBeUndefined();
  });

  it('keeps a thread on its loaded job, unless another job has waited too long', () => {
    const queue = new TaskQueue();
    queue.addJob(jobA);
    queue.addJob(jobB);
    queue.recordTiming(jobA, 1, 0.01);
    queue.recordTiming(jobB, 1, 0.01);
    queue.push(jobA, tasks(0, 1000), 0);
    queue.push(jobB, tasks(0, 1000), 0);
    expect(queue.take(undefined, 8, 1)?.job).toBe(jobA);
    // B has waited less than STICKY_MS: a thread that holds A stays on A.
    expect(queue.take(1, 8, 2)?.job).toBe(jobA);
    expect(queue.take(1, 8, STICKY_MS + 1)?.job).toBe(jobB);
    // A fresh thread goes to whichever job was served least recently.
    expect(queue.take(undefined, 8, STICKY_MS + 2)?.job).toBe(jobA);
  });

  it('runs suspects first, as exact chunks, and re-queued tasks before newer ones', () => {
    const queue = new TaskQueue();
    queue.addJob(jobA);
    queue.push(jobA, tasks(0, 4), 0);
    queue.unshift(jobA, tasks(100, 2));
    queue.unshift(jobA, tasks(200, 2), true);
    expect(queue.size).toBe(8);
    const first = queue.take(1, 1, 0);
    expect(first?.exact).toBe(true);
    expect(indices(first)).toEqual([200, 201]);
    const second = queue.take(1, 1, 0);
    expect(second?.exact).toBe(false);
    expect(indices(second)).toEqual([100, 101, 0, 1, 2, 3]);
  });

  it('counts what cancel drops and what a pause drains', () => {
    const queue = new TaskQueue();
    queue.addJob(jobA);
    queue.addJob(jobB);
    queue.push(jobA, tasks(0, 20), 0);
    queue.push(jobB, tasks(0, 7), 0);
    queue.unshift(jobB, tasks(50, 1), true);
    expect(indices(queue.take(1, 1, 0))).toEqual(tasks(0, FIRST_CHUNK).map((t) => t.index));
    expect(queue.removeJob(jobA.key)).toBe(20 - FIRST_CHUNK);
    expect(queue.removeJob(jobA.key)).toBe(0);
    const drained = queue.drain();
    expect(drained.map((chunk) => [chunk.job.jobId, indices(chunk)])).toEqual([
      ['b', [50, 0, 1, 2, 3, 4, 5, 6]],
    ]);
    expect(queue.size).toBe(0);
    expect(queue.take(undefined, 1, 0)).toBeUndefined();
  });
});

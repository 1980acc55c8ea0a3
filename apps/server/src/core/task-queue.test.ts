/**
 * The task window's memory bound: heavy inputs (typed arrays kept as bytes) are paged in by
 * bytes as well as by count, and a task taken out of the window is no longer held by it; with
 * a claimer (several nodes) a claim is sized by the bytes of the inputs the last one got.
 */
import { describe, expect, it } from 'vitest';
import { jobRecord } from '../store/job-store.conformance.js';
import { MemoryJobStore } from '../store/memory-job-store.js';
import { TaskQueue, WINDOW_BYTES } from './task-queue.js';

const MB = 1024 * 1024;

describe('TaskQueue window', () => {
  it('holds at most WINDOW_BYTES of inputs, and pages the rest in as it drains', async () => {
    const store = new MemoryJobStore();
    await store.createJob(jobRecord('heavy'), { program: 'x', argsJson: 'null' });
    const inputs = Array.from({ length: 8 }, () => new Uint8Array(16 * MB));
    await store.appendTasks('heavy', 'b1', 0, inputs);
    const queue = new TaskQueue(store, 'heavy', inputs.length);
    await queue.pageIn();
    expect(queue.size).toBe(WINDOW_BYTES / (16 * MB)); // 4 of the 8
    const taken = queue.take(3);
    expect(taken.map((t) => t.index)).toEqual([0, 1, 2]);
    expect(queue.wantsPage).toBe(true); // 16 MB left in the window
    await queue.pageIn();
    expect(queue.take(10).map((t) => t.index)).toEqual([3, 4, 5, 6]);
    await queue.pageIn();
    expect(queue.take(10).map((t) => t.index)).toEqual([7]);
    await store.close();
  });

  it('keeps thousands of small inputs in the window as before (the count bound)', async () => {
    const store = new MemoryJobStore();
    await store.createJob(jobRecord('light'), { program: 'x', argsJson: 'null' });
    const inputs = Array.from({ length: 5000 }, (_, i) => String(i));
    await store.appendTasks('light', 'b1', 0, inputs);
    const queue = new TaskQueue(store, 'light', inputs.length);
    await queue.pageIn();
    expect(queue.size).toBe(4096);
    await store.close();
  });
});

describe('TaskQueue window with a claimer (several nodes)', () => {
  it('sizes a claim by the bytes of the inputs the last one got, and claims none while half full', async () => {
    const store = new MemoryJobStore();
    // One 4 MB buffer stands for every input: the window counts bytes, the test allocates once.
    const input = new Uint8Array(4 * MB);
    let next = 0;
    const asked: number[] = [];
    const claimer = {
      claim: (count: number) => {
        asked.push(count);
        return Promise.resolve(Array.from({ length: count }, () => ({ index: next++, input })));
      },
      batch: () => 40,
    };
    const queue = new TaskQueue(store, 'heavy', 0, claimer);
    expect(queue.wantsPage).toBe(true);
    await queue.pageIn();
    // The first claim knows no input size: 16 tasks (of 4 MB at most they fill the window), not
    // the 40 the workers' room asks.
    expect(asked).toEqual([16]);
    queue.take(6);
    expect(queue.wantsPage).toBe(false); // 40 MB held: more than half of WINDOW_BYTES
    queue.take(8);
    expect(queue.wantsPage).toBe(true); // 8 MB held, 2 tasks: fewer than half the batch
    await queue.pageIn();
    // Room for (64 − 8) MB of 4 MB inputs: 14, not the 40 the workers' room asks.
    expect(asked).toEqual([16, (WINDOW_BYTES - 8 * MB) / (4 * MB)]);
    expect(queue.size).toBe(2 + 14);
    await store.close();
  });
});

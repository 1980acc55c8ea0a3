/**
 * Issue #13: `job.tell(data)` reaches every thread of the job, now or joining later, once and
 * in seq order; a message to a finished job is refused with a clear error; notes are kept per
 * owner. MemoryJobStore and recording workers.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { TASK_LIMITS } from '@tabgrid/protocol/task-reports';
import type { Caller } from '../auth/caller.js';
import { admin, answer, connect, env, ok, restart, settle, useHarness } from './testing/harness.js';

useHarness();

const tell = (jobId: string, data: unknown, messageId?: string) =>
  env.scheduler.feeds.messages.tell(env.scheduler.job(admin, jobId), data, messageId);

async function openJob(inputs: unknown[]) {
  const job = await env.scheduler.createJob(admin, { program: 'function Run(d){return d}' });
  await env.scheduler.submit(admin, job.id, 'b1', inputs);
  return job;
}

async function rejection(promise: Promise<unknown>): Promise<TabgridError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TabgridError);
  return err as TabgridError;
}

describe('job.tell', () => {
  it('goes to connections with the program now, and to later ones right after the job frame', async () => {
    const job = await openJob([1, 2]);
    const early = connect(1);
    await settle();
    expect(await tell(job.id, { go: 1 })).toEqual({ seq: 1 });
    expect(early.frames.filter((f) => f.type === 'messages')).toEqual([
      { type: 'messages', jobId: job.id, items: [{ seq: 1, data: { go: 1 } }] },
    ]);
    expect(await tell(job.id, 'two')).toEqual({ seq: 2 });
    const late = connect(1);
    await settle();
    expect(late.frames.map((f) => f.type)).toEqual(['welcome', 'job', 'messages', 'tasks']);
    expect(late.frames[2]).toEqual({
      type: 'messages',
      jobId: job.id,
      items: [
        { seq: 1, data: { go: 1 } },
        { seq: 2, data: 'two' },
      ],
    });
    expect(env.scheduler.job(admin, job.id).info().messages).toBe(2);
  });

  it('a resend with the same messageId answers the first seq and tells nobody twice', async () => {
    const job = await openJob([1]);
    const w = connect(1);
    await settle();
    const [a, b] = await Promise.all([tell(job.id, 'x', 'm-1'), tell(job.id, 'x', 'm-1')]);
    expect(a).toEqual({ seq: 1 });
    expect(b).toEqual({ seq: 1 });
    expect(await tell(job.id, 'x', 'm-1')).toEqual({ seq: 1 });
    expect(w.frames.filter((f) => f.type === 'messages')).toHaveLength(1);
    expect(await env.store.readMessages(job.id, 0, 10)).toHaveLength(1);
  });

  it('to a done job: TG_ERR_JOB_FINISHED (409), and a resend of an earlier message still answers its seq', async () => {
    const job = await openJob([1]);
    const w = connect(1);
    await settle();
    await tell(job.id, 'before', 'm-1');
    await env.scheduler.closeJob(admin, job.id);
    answer(w.session, w.tasks().map(ok));
    await settle();
    const err = await rejection(tell(job.id, 'after'));
    expect(err.code).toBe(ErrorCode.JOB_FINISHED);
    expect(err.status).toBe(409);
    expect(err.message).toContain('messages reach only running jobs');
    expect(await tell(job.id, 'before', 'm-1')).toEqual({ seq: 1 });
  });

  it(`refuses past ${TASK_LIMITS.maxMessagesPerJob} messages per job and over ${TASK_LIMITS.maxMessageBytes / 1024} KB per message`, async () => {
    const job = await openJob([1]);
    const big = await rejection(tell(job.id, 'x'.repeat(TASK_LIMITS.maxMessageBytes)));
    expect(big.code).toBe(ErrorCode.PAYLOAD_TOO_LARGE);
    for (let i = 0; i < TASK_LIMITS.maxMessagesPerJob; i++) await tell(job.id, i);
    const err = await rejection(tell(job.id, 'one more'));
    expect(err.code).toBe(ErrorCode.LIMIT_REACHED);
    expect(err.status).toBe(409);
  });

  it('after a restart, a new connection still gets every message told before', async () => {
    const job = await openJob([1]);
    await tell(job.id, { a: 1 });
    await tell(job.id, { b: 2 });
    await restart();
    const w = connect(1);
    await settle();
    expect(w.frames.find((f) => f.type === 'messages')).toEqual({
      type: 'messages',
      jobId: job.id,
      items: [
        { seq: 1, data: { a: 1 } },
        { seq: 2, data: { b: 2 } },
      ],
    });
    expect(await tell(job.id, 'c')).toEqual({ seq: 3 });
  });
});

describe('notes', () => {
  const alice: Caller = { name: 'alice', owner: 'alice', role: 'client', seesAll: false };

  it('are kept per owner; an admin sees everyone’s; an empty or long one is refused', async () => {
    const notes = env.scheduler.feeds.notes;
    await notes.add(alice, 'phase 2');
    await notes.add(admin, 'admin note');
    expect((await notes.list(alice, 0)).map((n) => n.text)).toEqual(['phase 2']);
    expect((await notes.list(admin, 0)).map((n) => n.text).sort()).toEqual([
      'admin note',
      'phase 2',
    ]);
    const long = await rejection(notes.add(alice, 'x'.repeat(TASK_LIMITS.maxNoteLength + 1)));
    expect(long.code).toBe(ErrorCode.INVALID_REQUEST);
    await rejection(notes.add(alice, ''));
  });
});

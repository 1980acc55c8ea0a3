/**
 * Messages both ways besides outcomes (issue 13): `job.tell(data)` to a job's threads, and
 * notes (`tg.note(text)`) on the dashboard's charts.
 *
 * A message is stored first (its seq from the record, committed with it), then sent to every
 * connection that has the job's program; a connection that loads the program later gets the
 * job's messages so far right after the job frame (see DispatchPass). So every thread, now or
 * later, sees every message once and in seq order. A job keeps its messages in memory for that
 * (≤ TASK_LIMITS.maxMessagesPerJob, ≤ maxMessageBytesPerJob), read back after a restart.
 * A resend with the same `messageId` answers the first seq instead of telling twice.
 */
import { randomUUID } from 'node:crypto';
import { socketFormToJson } from '@tabgrid/protocol/bytes';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { checkDepth } from '@tabgrid/protocol/limits';
import { TASK_LIMITS } from '@tabgrid/protocol/task-reports';
import type { Caller } from '../auth/caller.js';
import type { JobRecord, JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import { messagesFrame } from './frames.js';
import type { JobFeedsState } from './job-feeds-state.js';
import type { WorkerRegistry } from './worker-registry.js';

/** A job as messages see it (the job runtime is one). */
export interface TellJob {
  readonly record: Readonly<JobRecord>;
  readonly feeds: JobFeedsState;
}

export interface JobMessagesDeps {
  store: JobStore;
  clock: Pick<Clock, 'now'>;
  workers: Pick<WorkerRegistry, 'sendToHolders'>;
}

const MESSAGE_DEPTH = { what: 'message', code: ErrorCode.INVALID_REQUEST } as const;

export class JobMessages {
  constructor(private readonly deps: JobMessagesDeps) {}

  /**
   * Stores `data` (socket form: typed arrays welcome) as the job's next message and sends it to
   * the job's threads; resolves `{ seq }` once stored. `messageId` makes a resend idempotent.
   */
  tell(job: TellJob, data: unknown, messageId: string = randomUUID()): Promise<{ seq: number }> {
    const feeds = job.feeds;
    const known = feeds.messageIds.get(messageId);
    if (known !== undefined) return Promise.resolve({ seq: known });
    // A resend while the first is still committing waits for it (registered before any await).
    const pending = feeds.pendingTells.get(messageId);
    if (pending) return pending;
    const told = this.tellOnce(job, data, messageId);
    feeds.pendingTells.set(messageId, told);
    const forget = () => feeds.pendingTells.delete(messageId);
    told.then(forget, forget);
    return told;
  }

  private async tellOnce(job: TellJob, data: unknown, messageId: string): Promise<{ seq: number }> {
    const { feeds, record } = job;
    if (record.state === 'done' || record.state === 'cancelled') {
      // A resend of a message told before the job ended still answers its seq.
      const stored = await this.deps.store.findMessage(record.id, messageId);
      if (stored !== undefined) return { seq: stored };
      throw new TabgridError(
        ErrorCode.JOB_FINISHED,
        `Job ${record.id} is ${record.state}: messages reach only running jobs. Tell a job before it ends.`,
      );
    }
    if (typeof data === 'object' && data !== null) {
      checkDepth(data, TASK_LIMITS.maxDataDepth, MESSAGE_DEPTH);
    }
    const dataJson = socketFormToJson(data);
    const bytes = Buffer.byteLength(dataJson);
    if (bytes > TASK_LIMITS.maxMessageBytes) {
      throw new TabgridError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `A message may be at most ${TASK_LIMITS.maxMessageBytes / 1024} KB of JSON (this one is ${bytes} bytes): send a smaller one, or put the data in the job's args or tasks.`,
      );
    }
    await this.load(job);
    const again = feeds.messageIds.get(messageId); // told before a restart
    if (again !== undefined) return { seq: again };
    if (record.messageSeq >= TASK_LIMITS.maxMessagesPerJob) {
      throw new TabgridError(
        ErrorCode.LIMIT_REACHED,
        `Job ${record.id} was told ${record.messageSeq} messages, the limit per job: send fewer, larger messages, or start a new job.`,
      );
    }
    if (feeds.messageBytes + bytes > TASK_LIMITS.maxMessageBytesPerJob) {
      throw new TabgridError(
        ErrorCode.LIMIT_REACHED,
        `Job ${record.id}'s messages would exceed ${TASK_LIMITS.maxMessageBytesPerJob / (1024 * 1024)} MB in all (the limit per job): send less per message.`,
      );
    }
    const seq = feeds.nextMessageSeq();
    feeds.messageBytes += bytes;
    const { store, clock } = this.deps;
    return Promise.all([
      store.appendMessage(record.id, seq, messageId, dataJson, clock.now()),
      store.updateJob(record as JobRecord),
    ]).then(
      () => {
        feeds.keep({ seq, messageId, data: dataJson });
        this.deps.workers.sendToHolders(
          record.id,
          messagesFrame(record.id, [{ seq, data: dataJson }]),
        );
        return { seq };
      },
      (err: unknown) => {
        feeds.messageBytes -= bytes;
        throw err;
      },
    );
  }

  /**
   * Messages another node stored (several nodes): read after the last one this node keeps, kept,
   * and sent to this node's threads of the job, in seq order.
   */
  async catchUp(job: TellJob): Promise<void> {
    await this.load(job);
    const feeds = job.feeds;
    const last = feeds.messages.at(-1)?.seq ?? 0;
    const rows = await this.deps.store.readMessages(
      job.record.id,
      last,
      TASK_LIMITS.maxMessagesPerJob,
    );
    const fresh = rows.filter((m) => m.seq > (feeds.messages.at(-1)?.seq ?? 0));
    if (fresh.length === 0) return;
    for (const m of fresh) {
      feeds.keep({ seq: m.seq, messageId: m.messageId, data: m.data });
      feeds.messageBytes += Buffer.byteLength(m.data);
    }
    feeds.noteMessageSeq(fresh.at(-1)!.seq);
    this.deps.workers.sendToHolders(
      job.record.id,
      messagesFrame(
        job.record.id,
        fresh.map((m) => ({ seq: m.seq, data: m.data })),
      ),
    );
  }

  /** Reads the job's stored messages back into memory if a restart left them out. */
  async load(job: TellJob): Promise<void> {
    if (job.feeds.messagesLoaded) return;
    const rows = await this.deps.store.readMessages(
      job.record.id,
      0,
      TASK_LIMITS.maxMessagesPerJob,
    );
    job.feeds.restore(rows.map((m) => ({ seq: m.seq, messageId: m.messageId, data: m.data })));
  }
}

/** One note as routes and the dashboard see it (protocol `Note`: `at` epoch ms). */
export interface NoteView {
  at: number;
  text: string;
}

/** Notes on the dashboard's charts, per owner (the store keeps each owner's newest). */
export class Notes {
  constructor(private readonly deps: Pick<JobMessagesDeps, 'store' | 'clock'>) {}

  async add(caller: Caller, text: string): Promise<{ at: number }> {
    if (text.length === 0 || text.length > TASK_LIMITS.maxNoteLength) {
      throw new TabgridError(
        ErrorCode.INVALID_REQUEST,
        `A note is 1 to ${TASK_LIMITS.maxNoteLength} characters (this one has ${text.length}): shorten it.`,
      );
    }
    const at = this.deps.clock.now();
    await this.deps.store.addNote(caller.owner, at, text, TASK_LIMITS.maxNotesPerOwner);
    return { at };
  }

  /** The caller's notes since `since` (epoch ms), oldest first; every owner's for an admin. */
  async list(caller: Caller, since: number): Promise<NoteView[]> {
    const rows = await this.deps.store.readNotes(
      caller.seesAll ? undefined : caller.owner,
      since,
      TASK_LIMITS.maxNotesPerOwner,
    );
    return rows.map((n) => ({ at: n.at, text: n.text }));
  }
}

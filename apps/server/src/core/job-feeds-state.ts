/**
 * A job's task-model state beside its record (issue 13): how far its log and event feeds are
 * durable, its messages (`job.tell`) kept in memory for the threads that load it later, and
 * the record's counters of those feeds. Kept apart from JobRuntime so that one stays small;
 * nothing here is touched by the plain Run-only path.
 */
import type { JobRecord } from '../store/job-store.js';
import type { MessageText } from './frames.js';

/** A stored message, as the job keeps it for new connections. */
export interface KeptMessage extends MessageText {
  messageId: string;
}

/** The two durable feeds a `report` frame fills (series ride in outcomes instead). */
export type LineFeed = 'logs' | 'events';

export class JobFeedsState {
  /** Highest log seq durable: feeds never read past it. */
  durableLogSeq: number;
  /** Highest event seq durable. */
  durableEventSeq: number;
  /** The per-job event cap was reported by a synthetic log line (once per process). */
  eventsCapNoted = false;
  /** Its messages in seq order, once loaded (a restarted server reads them back first). */
  readonly messages: KeptMessage[] = [];
  /** Seq by messageId of {@link messages}, and tells still committing. */
  readonly messageIds = new Map<string, number>();
  readonly pendingTells = new Map<string, Promise<{ seq: number }>>();
  /** JSON bytes of {@link messages} plus those committing (against the per-job cap). */
  messageBytes = 0;
  /** {@link messages} holds every stored message. */
  messagesLoaded: boolean;

  /** @param record the job's record, which the counters below change (the job stores it). */
  constructor(private readonly record: JobRecord) {
    this.durableLogSeq = record.logSeq;
    this.durableEventSeq = record.eventSeq;
    this.messagesLoaded = record.messageSeq === 0;
  }

  /** Highest seq given out on `feed` (durable or committing). */
  seq(feed: LineFeed): number {
    return feed === 'logs' ? this.record.logSeq : this.record.eventSeq;
  }

  /** The seq of one more line (or event). */
  nextSeq(feed: LineFeed): number {
    return feed === 'logs' ? ++this.record.logSeq : ++this.record.eventSeq;
  }

  /** `count` more lines (or events) dropped over a cap. */
  addDropped(feed: LineFeed, count: number): void {
    if (feed === 'logs')
      this.record.logsDropped = Math.min(Number.MAX_SAFE_INTEGER, this.record.logsDropped + count);
    else
      this.record.eventsDropped = Math.min(
        Number.MAX_SAFE_INTEGER,
        this.record.eventsDropped + count,
      );
  }

  durable(feed: LineFeed): number {
    return feed === 'logs' ? this.durableLogSeq : this.durableEventSeq;
  }

  /** Lines (or events) up to `seq` are durable. */
  markDurable(feed: LineFeed, seq: number): void {
    if (feed === 'logs') this.durableLogSeq = Math.max(this.durableLogSeq, seq);
    else this.durableEventSeq = Math.max(this.durableEventSeq, seq);
  }

  /** Messages up to `seq` were stored (by another node): the next one told here follows them. */
  noteMessageSeq(seq: number): void {
    this.record.messageSeq = Math.max(this.record.messageSeq, seq);
  }

  /** The seq of one more message. */
  nextMessageSeq(): number {
    return ++this.record.messageSeq;
  }

  /** Keeps a stored message (commits complete in seq order, so this appends in order; its bytes were counted when it was told). */
  keep(message: KeptMessage): void {
    this.messages.push(message);
    this.messageIds.set(message.messageId, message.seq);
  }

  /**
   * The job runs no more: no thread will load it, so its messages leave memory (a resend of one
   * is answered from the store).
   */
  retire(): void {
    this.messages.length = 0;
    this.messageIds.clear();
    this.messageBytes = 0;
    this.messagesLoaded = true;
  }

  /** The messages read back after a restart (before any new one is told). */
  restore(messages: readonly KeptMessage[]): void {
    if (this.messagesLoaded) return;
    for (const m of messages) {
      this.messages.push(m);
      this.messageIds.set(m.messageId, m.seq);
      this.messageBytes += Buffer.byteLength(m.data);
    }
    this.messagesLoaded = true;
  }
}

import { TabgridError } from '@tabgrid/protocol/errors';
import type { Outcome, OutcomeKind } from '@tabgrid/protocol/jobs';
import type { StreamEnd } from '@tabgrid/protocol/sdk';
import { decodeStoredOutcome } from '@tabgrid/protocol/stored';
import type { JobRecord, JobStore, StoredOutcome } from '../store/job-store.js';

/** A job, as far as its streams read it (the job runtime is one). */
export interface StreamedJob {
  readonly record: Readonly<Pick<JobRecord, 'state' | 'cancelReason' | 'programHash'>>;
  /** The latest durable outcomes, in seq order. */
  readonly recent: readonly Outcome[];
  /** Highest seq known durable: streams never read past it. */
  readonly durableSeq: number;
  /** Nothing will ever be added to its streams. */
  readonly streamsFinished: boolean;
  /** Drops its in-memory window once nobody reads it. */
  forgetRecent(): void;
}

/** Outcomes per push: large enough to be cheap per item, small enough to keep memory flat. */
const PUSH_BATCH = 2000;
/**
 * Packed result bytes (typed arrays) one store read aims at: 2,000 results of 4 MB each would be
 * 8 GB in one push. A stream whose last read weighed more reads fewer next time (at least one).
 */
const PUSH_BYTES = 16 * 1024 * 1024;

/** The packed bytes (typed arrays kept as bytes) of `rows`. */
function packedBytes(rows: readonly StoredOutcome[]): number {
  let bytes = 0;
  for (const row of rows) if (typeof row.payload !== 'string') bytes += row.payload.length;
  return bytes;
}

/** A consumer of a job's settled outcomes (an SDK stream, a REST `?stream` response, …). */
export interface OutcomeSink {
  /** Delivers a batch; the sink calls `ready` when it can take the next one (backpressure). */
  push(items: Outcome[], ready: () => void): void;
  /** The stream is over; with reason `error`, `message` says what went wrong. */
  end(reason: StreamEnd['reason'], message?: string): void;
}

interface Subscription {
  id: string;
  jobId: string;
  kind: OutcomeKind;
  /** Everything up to this seq has been pushed. */
  cursor: number;
  sink: OutcomeSink;
  busy: boolean;
  /** New outcomes were committed while busy: look again afterwards. */
  dirty: boolean;
  /** Outcomes the next store read asks for: PUSH_BATCH, fewer while they weigh (PUSH_BYTES). */
  readLimit?: number;
  ended: boolean;
  /** Each outcome with its provenance: read from the store (the memory window has none). */
  provenance: boolean;
}

/** Options of a stream. */
export interface StreamOptions {
  /** Give each outcome its provenance (`Outcome.provenance`). */
  provenance?: boolean;
}

/** A stored outcome as a provenance stream delivers it: decoded, with the job's program hash. */
export function withProvenance(row: StoredOutcome, programHash: string): Outcome {
  const outcome = decodeStoredOutcome(row);
  const p = row.provenance;
  if (p === undefined) return outcome; // stored before provenance was
  return {
    ...outcome,
    provenance: {
      workerId: p.workerId,
      attempt: p.attempt,
      runMs: p.runMs,
      queuedMs: p.queuedMs,
      programHash,
    },
  };
}

/** Why a stream ends, past its reason: the server's own reason for cancelling, if it had one. */
function endMessage(job: StreamedJob): string | undefined {
  return job.record.state === 'cancelled' ? (job.record.cancelReason ?? undefined) : undefined;
}

/**
 * Live outcome streams. Every stream reads from the store from its own cursor, so replay after
 * a reconnect and live delivery are the same code path, and a slow consumer only holds its
 * cursor, never a backlog in server memory. Streams never read past the job's durable seq, and
 * end once the job is done or cancelled and everything was delivered.
 */
export class OutcomeStreams {
  private readonly subs = new Map<string, Subscription>();

  constructor(
    private readonly store: JobStore,
    private readonly getJob: (jobId: string) => StreamedJob | undefined,
  ) {}

  subscribe(
    id: string,
    jobId: string,
    kind: OutcomeKind,
    from: number,
    sink: OutcomeSink,
    options: StreamOptions = {},
  ): void {
    this.unsubscribe(id);
    const sub: Subscription = {
      id,
      jobId,
      kind,
      cursor: from,
      sink,
      busy: false,
      dirty: false,
      ended: false,
      provenance: options.provenance === true,
    };
    this.subs.set(id, sub);
    this.pumpOne(sub);
  }

  unsubscribe(id: string): void {
    const sub = this.subs.get(id);
    if (sub) sub.ended = true;
    this.subs.delete(id);
  }

  /** New outcomes of `jobId` are durable, or its state changed. */
  pump(jobId: string): void {
    for (const sub of this.subs.values()) if (sub.jobId === jobId) this.pumpOne(sub);
  }

  endJob(jobId: string, reason: StreamEnd['reason']): void {
    for (const sub of [...this.subs.values()]) {
      if (sub.jobId === jobId) this.finish(sub, reason);
    }
  }

  closeAll(): void {
    for (const sub of this.subs.values()) sub.ended = true;
    this.subs.clear();
  }

  private finish(sub: Subscription, reason: StreamEnd['reason'], message?: string): void {
    this.unsubscribe(sub.id);
    try {
      if (message === undefined) sub.sink.end(reason);
      else sub.sink.end(reason, message);
    } catch (err) {
      console.error(`tabgrid: ending a stream of job ${sub.jobId} failed:`, err);
    }
    const job = this.getJob(sub.jobId);
    if (job?.streamsFinished && !this.watching(sub.jobId)) job.forgetRecent();
  }

  /**
   * Something went wrong delivering to this stream (a value its sink could not encode, a stored
   * row that does not decode): that stream ends with an error, every other stream runs on.
   */
  private fail(sub: Subscription, err: unknown): void {
    console.error(`tabgrid: a stream of job ${sub.jobId} failed:`, err);
    const message =
      err instanceof TabgridError
        ? err.message
        : `The server could not deliver the outcomes after seq ${sub.cursor} (${err instanceof Error ? err.message : String(err)}).`;
    this.finish(sub, 'error', message);
  }

  /** Hands `items` to the sink; the next batch follows when it is ready. */
  private deliver(sub: Subscription, items: Outcome[]): void {
    sub.cursor = items[items.length - 1]!.seq;
    try {
      sub.sink.push(items, () => {
        sub.busy = false;
        this.pumpOne(sub);
      });
    } catch (err) {
      sub.busy = false;
      this.fail(sub, err);
    }
  }

  /** Whether any stream is reading `jobId`. */
  watching(jobId: string): boolean {
    for (const sub of this.subs.values()) if (sub.jobId === jobId) return true;
    return false;
  }

  /**
   * The next batch from the job's in-memory window when it covers the cursor (a consumer that
   * keeps up), else undefined (read the store).
   */
  private fromMemory(job: StreamedJob, sub: Subscription, upTo: number): Outcome[] | undefined {
    const recent = job.recent;
    const first = recent[0];
    if (!first || sub.cursor + 1 < first.seq) {
      return sub.cursor >= upTo ? [] : undefined;
    }
    const out: Outcome[] = [];
    for (let i = sub.cursor + 1 - first.seq; i < recent.length && out.length < PUSH_BATCH; i++) {
      const o = recent[i]!;
      if (o.seq > upTo) break;
      if (sub.kind === 'all' || (sub.kind === 'results') === o.ok) out.push(o);
      else if (out.length === 0) sub.cursor = o.seq; // skip what this stream does not carry
    }
    return out;
  }

  private pumpOne(sub: Subscription): void {
    if (sub.ended) return;
    if (sub.busy) {
      sub.dirty = true;
      return;
    }
    const job = this.getJob(sub.jobId);
    if (!job) return this.finish(sub, 'deleted');
    sub.busy = true;
    sub.dirty = false;
    const upTo = job.durableSeq;
    const live = sub.provenance ? undefined : this.fromMemory(job, sub, upTo);
    if (live) {
      if (live.length === 0) {
        sub.busy = false;
        if (job.streamsFinished) this.finish(sub, job.record.state, endMessage(job));
        return;
      }
      this.deliver(sub, live);
      return;
    }
    const options = sub.provenance ? { provenance: true } : undefined;
    const limit = sub.readLimit ?? PUSH_BATCH;
    this.store.readOutcomes(sub.jobId, sub.cursor, sub.kind, limit, options).then(
      (rows) => {
        const bytes = packedBytes(rows);
        sub.readLimit =
          bytes > PUSH_BYTES
            ? Math.max(1, Math.floor((rows.length * PUSH_BYTES) / bytes))
            : Math.min(PUSH_BATCH, limit * 2);
        const visible = rows.filter((row) => row.seq <= upTo);
        if (sub.ended) return;
        if (visible.length > 0) {
          let items: Outcome[];
          try {
            const hash = job.record.programHash;
            items = sub.provenance
              ? visible.map((row) => withProvenance(row, hash))
              : visible.map(decodeStoredOutcome);
          } catch (err) {
            sub.busy = false;
            return this.fail(sub, err);
          }
          this.deliver(sub, items);
          return;
        }
        sub.busy = false;
        if (job.streamsFinished && rows.length === 0) {
          return this.finish(sub, job.record.state, endMessage(job));
        }
        if (sub.dirty) this.pumpOne(sub);
      },
      (err: unknown) => {
        sub.busy = false;
        this.fail(sub, err);
      },
    );
  }
}

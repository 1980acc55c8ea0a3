/**
 * One server-side outcome stream (`job:subscribe`), as an async iterator that survives
 * reconnects: it resubscribes from the last `seq` it received, so every outcome arrives
 * exactly once.
 */
import { fromSocketForm } from '@tabgrid/protocol/bytes';
import type { Outcome, OutcomeKind } from '@tabgrid/protocol/jobs';
import type { SdkRequest, StreamEnd } from '@tabgrid/protocol/sdk';
import type { PushRoute } from './connection.js';
import type { SdkTransport } from './transport.js';
import { JobCancelledError } from './job-errors.js';
import { ServerStream } from './server-stream.js';

export interface SubscriptionOptions {
  /** Deliver outcomes with `seq > from`; 0 (the default) for everything. */
  from?: number;
  highWaterMark?: number;
  /** Called once the server has accepted the first subscribe (e.g. to start submitting). */
  onOpen?: () => void;
  /** Called when the consumer stops early. */
  onReturn?: () => void;
  /** Ask for each outcome's `provenance` (issue 14). */
  provenance?: boolean;
}

/** Typed arrays in a result arrive as binary attachments: restored to their kind here. */
function withBytes(item: Outcome): Outcome {
  if (!item.ok || typeof item.value !== 'object' || item.value === null) return item;
  const value = fromSocketForm(item.value);
  return value === item.value ? item : { ...item, value };
}

/**
 * Outcomes of one job as an async iterator. Nothing is sent until the first `next()` (or
 * `open()`); the iterator finishes when the server ends the stream (`endReason` says why), or,
 * for a job cancelled or deleted first, throws a `JobCancelledError` after the outcomes that
 * arrived.
 *
 * @example
 * const sub = new Subscription(conn, jobId, 'results');
 * for await (const o of { [Symbol.asyncIterator]: () => sub }) console.log(o.index, o.seq);
 */
export class Subscription extends ServerStream<Outcome> {
  protected readonly noun = 'stream';
  private lastSeq: number;

  constructor(
    connection: SdkTransport,
    jobId: string,
    private readonly kind: OutcomeKind,
    private readonly options: SubscriptionOptions = {},
  ) {
    super(connection, jobId, options);
    this.lastSeq = options.from ?? 0;
  }

  protected pushes(): Omit<PushRoute, 'end' | 'invalid'> {
    return { outcomes: (items, ack) => this.receive(items, ack) };
  }

  protected ask(retry: boolean): Promise<unknown> {
    return this.connection.request('job:subscribe', this.payload(), retry ? { retry: true } : {});
  }

  private payload(): SdkRequest<'job:subscribe'> {
    const payload = {
      jobId: this.jobId,
      subscriptionId: this.id,
      kind: this.kind,
      from: this.lastSeq,
    };
    return this.options.provenance ? { ...payload, provenance: true } : payload;
  }

  protected override onLive(): void {
    this.options.onOpen?.();
  }

  /**
   * A job that ended unfinished says so: the loop throws once what did arrive is consumed,
   * instead of ending as if every task had settled.
   */
  protected override endError(reason: StreamEnd['reason'], message?: string): Error | undefined {
    if (reason !== 'cancelled' && reason !== 'deleted') return undefined;
    return new JobCancelledError(this.jobId, reason, message);
  }

  private receive(items: Outcome[], ack: () => void): void {
    // Anything at or below the cursor was already received (e.g. a push racing a resubscribe).
    const fresh = items.filter((item) => item.seq > this.lastSeq);
    for (const item of fresh) this.lastSeq = Math.max(this.lastSeq, item.seq);
    this.stream.push(fresh.map(withBytes), ack);
  }
}

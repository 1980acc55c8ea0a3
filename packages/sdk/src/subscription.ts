/**
 * One server-side outcome stream (`job:subscribe`), as an async iterator that survives
 * reconnects: it resubscribes from the last `seq` it received, so every outcome arrives
 * exactly once.
 */
import { fromSocketForm } from '@tabgrid/protocol/bytes';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { Outcome, OutcomeKind } from '@tabgrid/protocol/jobs';
import type { StreamEnd } from '@tabgrid/protocol/sdk';
import { ConnectionLostError } from './connection.js';
import type { SdkTransport } from './transport.js';
import { randomId } from './ids.js';
import { BufferedStream } from './streams.js';

export interface SubscriptionOptions {
  /** Deliver outcomes with `seq > from`; 0 (the default) for everything. */
  from?: number;
  highWaterMark?: number;
  /** Called once the server has accepted the first subscribe (e.g. to start submitting). */
  onOpen?: () => void;
  /** Called when the consumer stops early. */
  onReturn?: () => void;
}

/**
 * Outcomes of one job as an async iterator. Nothing is sent until the first `next()` (or
 * `open()`); the iterator finishes when the server ends the stream (`endReason` says why).
 *
 * @example
 * const sub = new Subscription(conn, jobId, 'results');
 * for await (const o of { [Symbol.asyncIterator]: () => sub }) console.log(o.index, o.seq);
 */
/** Typed arrays in a result arrive as binary attachments: restored to their kind here. */
function withBytes(item: Outcome): Outcome {
  if (!item.ok || typeof item.value !== 'object' || item.value === null) return item;
  const value = fromSocketForm(item.value);
  return value === item.value ? item : { ...item, value };
}

export class Subscription implements AsyncIterator<Outcome, undefined> {
  readonly id = randomId();
  /** Why the server ended the stream, once it has. */
  endReason: StreamEnd['reason'] | undefined;
  private lastSeq: number;
  private opening: Promise<void> | undefined;
  /** True once the server accepted the first subscribe; from then on reconnects resubscribe. */
  private live = false;
  private readonly stream: BufferedStream<Outcome>;
  private cleanups: (() => void)[] = [];

  constructor(
    private readonly connection: SdkTransport,
    private readonly jobId: string,
    private readonly kind: OutcomeKind,
    private readonly options: SubscriptionOptions = {},
  ) {
    this.lastSeq = options.from ?? 0;
    this.stream = new BufferedStream<Outcome>({
      ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
      onReturn: () => {
        this.stop(true);
        options.onReturn?.();
      },
    });
  }

  /** Subscribes (once); resolves when the server has accepted the subscription. */
  open(): Promise<void> {
    this.opening ??= this.subscribe();
    return this.opening;
  }

  async next(): Promise<IteratorResult<Outcome, undefined>> {
    if (!this.live && !this.stream.finished) await this.open();
    return this.stream.next();
  }

  return(): Promise<IteratorResult<Outcome, undefined>> {
    return this.stream.return();
  }

  /** Ends the iteration with `error` (thrown from the pending or next `next()`). */
  fail(error: unknown): void {
    if (this.stream.finished) return;
    this.stop(true);
    this.stream.fail(error);
  }

  private async subscribe(): Promise<void> {
    this.cleanups.push(
      this.connection.route(this.id, {
        outcomes: (items, ack) => this.receive(items, ack),
        end: (reason, message) => this.end(reason, message),
        invalid: (error) => this.fail(error),
      }),
      this.connection.listen({
        connected: () => this.resubscribe(),
        disconnected: () => this.stream.dropPendingAcks(),
        failed: (error) => this.fail(error),
      }),
    );
    try {
      await this.connection.request('job:subscribe', this.payload(), { retry: true });
    } catch (error) {
      this.fail(error);
      throw error;
    }
    if (this.stream.finished) return;
    this.live = true;
    this.options.onOpen?.();
  }

  private resubscribe(): void {
    if (!this.live || this.stream.finished) return;
    this.connection.request('job:subscribe', this.payload()).catch((error: unknown) => {
      // Lost again before the answer: the next 'connect' resubscribes.
      if (error instanceof ConnectionLostError) return;
      // The job was deleted while we were away.
      if (error instanceof TabgridError && error.code === ErrorCode.JOB_NOT_FOUND)
        this.end('deleted');
      else this.fail(error);
    });
  }

  private payload(): { jobId: string; subscriptionId: string; kind: OutcomeKind; from: number } {
    return { jobId: this.jobId, subscriptionId: this.id, kind: this.kind, from: this.lastSeq };
  }

  private receive(items: Outcome[], ack: () => void): void {
    // Anything at or below the cursor was already received (e.g. a push racing a resubscribe).
    const fresh = items.filter((item) => item.seq > this.lastSeq);
    for (const item of fresh) this.lastSeq = Math.max(this.lastSeq, item.seq);
    this.stream.push(fresh.map(withBytes), ack);
  }

  private end(reason: StreamEnd['reason'], message?: string): void {
    if (this.stream.finished) return;
    if (reason === 'error') {
      // The server could not deliver the rest: the iteration throws instead of ending quietly.
      this.fail(
        new TabgridError(
          ErrorCode.INTERNAL,
          message ?? 'The server ended this stream with an error; see its log.',
        ),
      );
      return;
    }
    this.endReason = reason;
    this.stop(false);
    this.stream.end();
  }

  private stop(unsubscribe: boolean): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (unsubscribe && this.opening) {
      this.connection.notify('job:unsubscribe', { subscriptionId: this.id });
    }
  }
}

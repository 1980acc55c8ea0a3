/**
 * One server-side feed of a job (`job:follow`: logs, events, progress or one series), as an
 * async iterator that survives reconnects: it follows again from the `seq` of the last item it
 * received, so every log line, event and series item arrives exactly once. Progress has no
 * cursor: after a reconnect the server sends a fresh snapshot of the running tasks.
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { FeedItemOf, FeedName, FeedPush } from '@tabgrid/protocol/feeds';
import type { StreamEnd } from '@tabgrid/protocol/sdk';
import { ConnectionLostError } from './connection.js';
import type { SdkTransport } from './transport.js';
import { randomId } from './ids.js';
import { BufferedStream } from './streams.js';

export interface FeedSubscriptionOptions {
  /** Deliver items with `seq > from` (series: the outcome seq); 0 (the default) for everything. */
  from?: number;
  highWaterMark?: number;
}

/**
 * A job's feed as an async iterator. Nothing is sent until the first `next()`; the iterator
 * finishes when the server ends the feed (the job is done, cancelled or deleted).
 *
 * @example
 * const sub = new FeedSubscription(conn, jobId, 'logs');
 * for await (const line of { [Symbol.asyncIterator]: () => sub }) console.log(line.message);
 */
export class FeedSubscription<F extends FeedName> implements AsyncIterator<
  FeedItemOf[F],
  undefined
> {
  readonly id = randomId();
  /** Why the server ended the feed, once it has. */
  endReason: StreamEnd['reason'] | undefined;
  private cursor: number;
  private opening: Promise<void> | undefined;
  /** True once the server accepted the first follow; from then on reconnects follow again. */
  private live = false;
  private readonly stream: BufferedStream<FeedItemOf[F]>;
  private cleanups: (() => void)[] = [];

  constructor(
    private readonly connection: SdkTransport,
    private readonly jobId: string,
    private readonly feed: F,
    private readonly label: string | undefined,
    options: FeedSubscriptionOptions = {},
  ) {
    this.cursor = options.from ?? 0;
    this.stream = new BufferedStream<FeedItemOf[F]>({
      ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
      onReturn: () => this.stop(true),
    });
  }

  async next(): Promise<IteratorResult<FeedItemOf[F], undefined>> {
    if (!this.live && !this.stream.finished) {
      this.opening ??= this.follow();
      await this.opening;
    }
    return this.stream.next();
  }

  return(): Promise<IteratorResult<FeedItemOf[F], undefined>> {
    return this.stream.return();
  }

  private async follow(): Promise<void> {
    this.cleanups.push(
      this.connection.route(this.id, {
        feed: (push, ack) => this.receive(push, ack),
        end: (reason, message) => this.end(reason, message),
        invalid: (error) => this.fail(error),
      }),
      this.connection.listen({
        connected: () => this.followAgain(),
        disconnected: () => this.stream.dropPendingAcks(),
        failed: (error) => this.fail(error),
      }),
    );
    try {
      await this.connection.request('job:follow', this.payload(), { retry: true });
    } catch (error) {
      this.fail(error);
      throw error;
    }
    if (!this.stream.finished) this.live = true;
  }

  private followAgain(): void {
    if (!this.live || this.stream.finished) return;
    this.connection.request('job:follow', this.payload()).catch((error: unknown) => {
      // Lost again before the answer: the next 'connect' follows again.
      if (error instanceof ConnectionLostError) return;
      // The job was deleted while we were away.
      if (error instanceof TabgridError && error.code === ErrorCode.JOB_NOT_FOUND)
        this.end('deleted');
      else this.fail(error);
    });
  }

  private payload() {
    return {
      jobId: this.jobId,
      subscriptionId: this.id,
      feed: this.feed,
      ...(this.label === undefined ? {} : { label: this.label }),
      // Progress has no cursor: every follow starts with a snapshot.
      from: this.feed === 'progress' ? 0 : this.cursor,
    };
  }

  private receive(push: FeedPush, ack: () => void): void {
    if (push.feed !== this.feed) {
      ack();
      this.fail(
        new TabgridError(
          ErrorCode.PROTOCOL,
          `The server sent ${push.feed} items on a ${this.feed} feed.`,
        ),
      );
      return;
    }
    const items = push.items as FeedItemOf[F][];
    if (push.feed === 'progress') {
      this.stream.push(items, ack);
      return;
    }
    // Anything at or below the cursor was already received (a push racing a follow again).
    const fresh: FeedItemOf[F][] = [];
    for (const item of items) {
      const { seq } = item as { seq: number };
      if (seq <= this.cursor) continue;
      this.cursor = seq;
      fresh.push(item);
    }
    this.stream.push(fresh, ack);
  }

  private fail(error: unknown): void {
    if (this.stream.finished) return;
    this.stop(true);
    this.stream.fail(error);
  }

  private end(reason: StreamEnd['reason'], message?: string): void {
    if (this.stream.finished) return;
    if (reason === 'error') {
      this.fail(
        new TabgridError(
          ErrorCode.INTERNAL,
          message ?? 'The server ended this feed with an error; see its log.',
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

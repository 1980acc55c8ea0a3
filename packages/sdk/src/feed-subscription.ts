/**
 * One server-side feed of a job (`job:follow`: logs, events, progress or one series), as an
 * async iterator that survives reconnects: it follows again from the `seq` of the last item it
 * received, so every log line, event and series item arrives exactly once. Progress has no
 * cursor: after a reconnect the server sends a fresh snapshot of the running tasks.
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { FeedItemOf, FeedName, FeedPush } from '@tabgrid/protocol/feeds';
import type { PushRoute } from './connection.js';
import type { SdkTransport } from './transport.js';
import { ServerStream } from './server-stream.js';

export interface FeedSubscriptionOptions {
  /** Deliver items with `seq > from` (series: the outcome seq); 0 (the default) for everything. */
  from?: number;
  highWaterMark?: number;
}

/**
 * A job's feed as an async iterator. Nothing is sent until the first `next()`; the iterator
 * finishes when the server ends the feed (the job is done, cancelled or deleted: a feed of a
 * cancelled job is complete, so it ends quietly).
 *
 * @example
 * const sub = new FeedSubscription(conn, jobId, 'logs');
 * for await (const line of { [Symbol.asyncIterator]: () => sub }) console.log(line.message);
 */
export class FeedSubscription<F extends FeedName> extends ServerStream<FeedItemOf[F]> {
  protected readonly noun = 'feed';
  private cursor: number;

  constructor(
    connection: SdkTransport,
    jobId: string,
    private readonly feed: F,
    private readonly label: string | undefined,
    options: FeedSubscriptionOptions = {},
  ) {
    super(connection, jobId, options);
    this.cursor = options.from ?? 0;
  }

  protected pushes(): Omit<PushRoute, 'end' | 'invalid'> {
    return { feed: (push, ack) => this.receive(push, ack) };
  }

  protected ask(retry: boolean): Promise<unknown> {
    const payload = {
      jobId: this.jobId,
      subscriptionId: this.id,
      feed: this.feed,
      ...(this.label === undefined ? {} : { label: this.label }),
      // Progress has no cursor: every follow starts with a snapshot.
      from: this.feed === 'progress' ? 0 : this.cursor,
    };
    return this.connection.request('job:follow', payload, retry ? { retry: true } : {});
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
}

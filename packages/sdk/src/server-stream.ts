/**
 * What an outcome stream (`job:subscribe`, ./subscription.ts) and a feed (`job:follow`,
 * ./feed-subscription.ts) share: one server-side stream of a job as an async iterator that
 * survives reconnects. It asks again with its cursor after every reconnect, forgets acks that
 * belonged to a lost connection, and ends (or fails) when the server ends the stream.
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { StreamEnd } from '@tabgrid/protocol/sdk';
import { ConnectionLostError, type PushRoute } from './connection.js';
import type { SdkTransport } from './transport.js';
import { randomId } from './ids.js';
import { BufferedStream } from './streams.js';

export interface ServerStreamOptions {
  highWaterMark?: number;
  /** Called once when the consumer stops early. */
  onReturn?: () => void;
}

export abstract class ServerStream<Item> implements AsyncIterator<Item, undefined> {
  readonly id = randomId();
  /** Why the server ended the stream, once it has. */
  endReason: StreamEnd['reason'] | undefined;
  protected readonly stream: BufferedStream<Item>;
  private opening: Promise<void> | undefined;
  /** True once the server accepted the first request; from then on reconnects ask again. */
  private live = false;
  private cleanups: (() => void)[] = [];

  constructor(
    protected readonly connection: SdkTransport,
    protected readonly jobId: string,
    options: ServerStreamOptions = {},
  ) {
    this.stream = new BufferedStream<Item>({
      ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
      onReturn: () => {
        this.stop(true);
        options.onReturn?.();
      },
    });
  }

  /** Where this stream's pushes go (`outcomes` or `feed`); `end` and `invalid` are handled here. */
  protected abstract pushes(): Omit<PushRoute, 'end' | 'invalid'>;
  /** Asks the server for the stream from the cursor (`job:subscribe` or `job:follow`). */
  protected abstract ask(retry: boolean): Promise<unknown>;
  /** 'stream' or 'feed', for messages. */
  protected abstract readonly noun: string;

  /** The error a stream that ended for `reason` throws once drained (none: it just ends). */
  protected endError(reason: StreamEnd['reason'], message?: string): Error | undefined {
    void reason;
    void message;
    return undefined;
  }

  /** Called once the server has accepted the first request. */
  protected onLive(): void {}

  /** Asks the server (once); resolves when it has accepted. */
  open(): Promise<void> {
    this.opening ??= this.start();
    return this.opening;
  }

  async next(): Promise<IteratorResult<Item, undefined>> {
    if (!this.live && !this.stream.finished) await this.open();
    return this.stream.next();
  }

  return(): Promise<IteratorResult<Item, undefined>> {
    return this.stream.return();
  }

  /** Ends the iteration with `error` (thrown from the pending or next `next()`). */
  fail(error: unknown): void {
    if (this.stream.finished) return;
    this.stop(true);
    this.stream.fail(error);
  }

  private async start(): Promise<void> {
    this.cleanups.push(
      this.connection.route(this.id, {
        ...this.pushes(),
        end: (reason, message) => this.end(reason, message),
        invalid: (error) => this.fail(error),
      }),
      this.connection.listen({
        connected: () => this.askAgain(),
        disconnected: () => this.stream.dropPendingAcks(),
        failed: (error) => this.fail(error),
      }),
    );
    try {
      await this.ask(true);
    } catch (error) {
      this.fail(error);
      throw error;
    }
    if (this.stream.finished) return;
    this.live = true;
    this.onLive();
  }

  private askAgain(): void {
    if (!this.live || this.stream.finished) return;
    this.ask(false).catch((error: unknown) => {
      // Lost again before the answer: the next 'connect' asks again.
      if (error instanceof ConnectionLostError) return;
      // The job was deleted while we were away.
      if (error instanceof TabgridError && error.code === ErrorCode.JOB_NOT_FOUND)
        this.end('deleted');
      else this.fail(error);
    });
  }

  private end(reason: StreamEnd['reason'], message?: string): void {
    if (this.stream.finished) return;
    if (reason === 'error') {
      // The server could not deliver the rest: the iteration throws instead of ending quietly.
      this.fail(
        new TabgridError(
          ErrorCode.INTERNAL,
          message ?? `The server ended this ${this.noun} with an error; see its log.`,
        ),
      );
      return;
    }
    this.endReason = reason;
    this.stop(false);
    this.stream.end(this.endError(reason, message));
  }

  private stop(unsubscribe: boolean): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (unsubscribe && this.opening) {
      this.connection.notify('job:unsubscribe', { subscriptionId: this.id });
    }
  }
}

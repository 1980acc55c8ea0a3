/**
 * The one socket.io connection of a {@link Tabgrid} client: lazy connect, requests with
 * acknowledgements (resent after a reconnect when that is safe), and routing of outcome and
 * feed pushes to their subscriptions.
 */
import { io, type Socket } from 'socket.io-client';
import { ErrorCode, TabgridError, asTabgridError } from '@tabgrid/protocol/errors';
import type { Outcome } from '@tabgrid/protocol/jobs';
import { decodeFeedPush, type FeedPush } from '@tabgrid/protocol/feeds';
import { checkAttachments, socketParser } from './socket-parser.js';
import {
  decodeOutcomesPush,
  type SdkResponses,
  decodeStreamEnd,
  type ClientToServerEvents,
  type SdkRequest,
  type SdkRequestName,
  type ServerToClientEvents,
  type StreamEnd,
} from '@tabgrid/protocol/sdk';

import {
  ConnectionLostError,
  isRecord,
  refusal,
  unreachableError,
  unreachableWhy,
  unwrapAnswer,
} from './connection-errors.js';

export { ConnectionLostError, unreachableError } from './connection-errors.js';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** What `emit` looks like once the typed event map has been checked at the call site. */
type AckEmitter = {
  emit(event: string, payload: unknown, ack: (error: Error | null, answer: unknown) => void): void;
};

export interface ConnectionOptions {
  /**
   * The nodes of one grid (one address, or several sharing one database). The connection uses
   * the first that answers and moves to the next when its node stops answering (README,
   * "Several nodes"); subscriptions resume there from their last seq.
   */
  urls: readonly string[];
  token: string | undefined;
  /** Longest wait for an answer while connected (ms). */
  timeoutMs: number;
  /** Longest a request waits for a (re)connection before giving up (ms). */
  connectTimeoutMs: number;
}

/** Connection events a subscription or a waiting request cares about. */
export interface ConnectionListener {
  connected?(): void;
  disconnected?(): void;
  /** The connection is gone for good (refused, or the client was closed). */
  failed?(error: TabgridError): void;
  /**
   * The first connection failed at once (refused, or the host does not resolve): requests
   * waiting for it fail with `error`; the next request tries again.
   */
  unreachable?(error: TabgridError): void;
}

/** Receiver of one subscription's pushes: an outcome stream's, or a feed's. */
export interface PushRoute {
  outcomes?(items: Outcome[], ack: () => void): void;
  feed?(push: FeedPush, ack: () => void): void;
  end(reason: StreamEnd['reason'], message?: string): void;
  invalid(error: TabgridError): void;
}

export interface RequestOptions {
  /** Resend after a reconnect if the connection dropped before the answer (idempotent requests). */
  retry?: boolean;
}

const MAX_RESENDS = 5;
const SERVER_DISCONNECT_RETRY_MS = 1000;
/** After every node failed once in a row, this long before the next round of tries. */
const FAILOVER_ROUND_PAUSE_MS = 1000;

/**
 * One lazily opened socket.io connection.
 *
 * @example
 * const conn = new Connection({ urls: [url], token, timeoutMs: 30_000, connectTimeoutMs: 15_000 });
 * const data = await conn.request('jobs:list', {}, { retry: true });
 */
export class Connection {
  private socket: ClientSocket | undefined;
  private fatal: TabgridError | undefined;
  private lastError = '';
  /** A connection has been up once: from then on, a refused reconnect is a transient drop. */
  private everConnected = false;
  /** Bumped on every disconnect, so acks of pushes from an older connection are never sent. */
  private generation = 0;
  private readonly listeners = new Set<ConnectionListener>();
  private readonly routes = new Map<string, PushRoute>();
  /** The node in use: an index into `options.urls`. */
  private at = 0;
  /** Nodes tried since the last connection that came up. */
  private misses = 0;
  /** Why each node of this round could not be reached, for the error once all failed. */
  private unreachable: string[] = [];

  constructor(private readonly options: ConnectionOptions) {
    if (options.urls.length === 0) {
      throw new TabgridError(ErrorCode.INVALID_REQUEST, 'A Tabgrid client needs a server url.');
    }
  }

  /** The address of the node in use (or to be tried next). */
  get url(): string {
    return this.options.urls[this.at]!;
  }

  get connected(): boolean {
    return this.socket?.connected === true;
  }

  /** Registers a listener; returns the function that removes it. */
  listen(listener: ConnectionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Routes pushes of `subscriptionId` to `route`; returns the function that stops it. */
  route(subscriptionId: string, route: PushRoute): () => void {
    this.routes.set(subscriptionId, route);
    return () => {
      if (this.routes.get(subscriptionId) === route) this.routes.delete(subscriptionId);
    };
  }

  /** Resolves once connected (connecting if needed); rejects after `connectTimeoutMs`. */
  ready(): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.open().connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        const why = this.lastError ? ` (${this.lastError})` : '';
        reject(
          new TabgridError(
            ErrorCode.DISCONNECTED,
            `Cannot reach the Tabgrid server at ${this.options.urls.join(', ')}${why}. Is it running (\`npm start\`)? Pass { url } or set TABGRID_URL.`,
          ),
        );
      }, this.options.connectTimeoutMs);
      const stop = this.listen({
        connected: () => {
          stop();
          clearTimeout(timer);
          resolve();
        },
        failed: (error) => {
          stop();
          clearTimeout(timer);
          reject(error);
        },
        unreachable: (error) => {
          stop();
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  /**
   * Sends a request and returns the `data` of its acknowledgement, decoded by the protocol; an
   * error answer is thrown as a {@link TabgridError} with the server's code.
   */
  async request<E extends SdkRequestName>(
    event: E,
    payload: SdkRequest<E>,
    options: RequestOptions = {},
  ): Promise<SdkResponses[E]> {
    const resends = options.retry ? MAX_RESENDS : 0;
    checkAttachments(event, payload);
    for (let attempt = 0; ; attempt += 1) {
      await this.ready();
      const result = await this.emitOnce(event, payload);
      if (result.kind === 'answer') return unwrapAnswer(event, result.answer);
      if (this.fatal) throw this.fatal;
      if (result.kind === 'timeout') {
        throw new TabgridError(
          ErrorCode.DISCONNECTED,
          `The server did not answer ${event} within ${this.options.timeoutMs} ms; it may be overloaded. Retry, or raise { timeoutMs }.`,
        );
      }
      if (attempt >= resends) {
        throw new ConnectionLostError(
          options.retry
            ? `The connection dropped ${attempt + 1} times while sending ${event}; if tasks are large, the server's message size limit may be the cause.`
            : `The connection dropped before the server answered ${event}; check its effect (e.g. tg.jobs()) before retrying.`,
        );
      }
    }
  }

  /** Sends a request only if connected, ignoring its answer (e.g. `job:unsubscribe`). */
  notify<E extends SdkRequestName>(event: E, payload: SdkRequest<E>): void {
    if (!this.connected || this.fatal) return;
    void this.emitOnce(event, payload);
  }

  /** Closes the connection; pending requests and streams fail with DISCONNECTED. */
  close(): void {
    this.fail(new TabgridError(ErrorCode.DISCONNECTED, 'This Tabgrid client was closed.'));
    this.socket?.disconnect();
  }

  private emitOnce(
    event: SdkRequestName,
    payload: unknown,
  ): Promise<{ kind: 'answer'; answer: unknown } | { kind: 'timeout' } | { kind: 'disconnected' }> {
    const socket = this.open();
    return new Promise((resolve) => {
      const emitter = socket.timeout(this.options.timeoutMs) as unknown as AckEmitter;
      emitter.emit(event, payload, (error, answer) => {
        if (!error) resolve({ kind: 'answer', answer });
        else if (/disconnected/.test(error.message) || !socket.connected)
          resolve({ kind: 'disconnected' });
        else resolve({ kind: 'timeout' });
      });
    });
  }

  private open(): ClientSocket {
    if (this.socket) return this.socket;
    const url = new URL(this.url);
    const socket: ClientSocket = io(url.origin, {
      path: `${url.pathname.replace(/\/+$/, '')}/socket.io/`,
      transports: ['websocket'],
      forceNew: true,
      parser: socketParser,
      ...(this.options.token === undefined ? {} : { auth: { token: this.options.token } }),
    });
    socket.on('connect', () => {
      this.lastError = '';
      this.everConnected = true;
      this.misses = 0;
      this.unreachable = [];
      for (const listener of [...this.listeners]) listener.connected?.();
    });
    socket.on('disconnect', (reason) => {
      this.generation += 1;
      for (const listener of [...this.listeners]) listener.disconnected?.();
      if (reason === 'io server disconnect' && !this.fatal) {
        // socket.io does not reconnect after a server-side disconnect (e.g. a restart that
        // closes sockets first); we do, and a refusal then arrives as a connect_error.
        setTimeout(() => {
          if (!this.fatal && this.socket === socket) socket.connect();
        }, SERVER_DISCONNECT_RETRY_MS);
      }
    });
    socket.on('connect_error', (error: Error & { data?: unknown }) => {
      this.lastError = error.message;
      // An active socket keeps retrying by itself; an inactive one was refused by the server.
      if (!socket.active) {
        this.fail(refusal(error));
        return;
      }
      // Another node may answer: a node that stopped answering (after a drop) or that cannot
      // work at all (nothing listens, no such host) hands over to the next one.
      const why = unreachableWhy(error);
      if (this.options.urls.length > 1 && (this.everConnected || why !== undefined)) {
        if (!this.everConnected) this.unreachable.push(`${this.url}: ${why}`);
        if (this.everConnected || this.unreachable.length < this.options.urls.length) {
          this.failOver(socket);
          return;
        }
      }
      // Never connected, and the address cannot work as it is (nothing listens, no such host):
      // say so now rather than after connectTimeoutMs. Once connected, such errors are a
      // restarting server: socket.io keeps retrying and waiting requests keep waiting.
      if (this.everConnected || why === undefined) return;
      this.giveUp(
        socket,
        this.options.urls.length === 1
          ? unreachableError(error, this.url)!
          : new TabgridError(
              ErrorCode.DISCONNECTED,
              `Cannot reach any Tabgrid server: ${this.unreachable.join('; ')}. Start the servers, or fix { url } / TABGRID_URL.`,
            ),
      );
    });
    socket.on('job:outcomes', (push: unknown, ack: unknown) => this.onOutcomes(push, ack));
    socket.on('job:feed', (push: unknown, ack: unknown) => this.onFeed(push, ack));
    socket.on('job:end', (end: unknown) => this.onEnd(end));
    this.socket = socket;
    return socket;
  }

  private onOutcomes(raw: unknown, ack: unknown): void {
    this.onPush(raw, ack, decodeOutcomesPush, (route, push, ackOnce) =>
      route.outcomes ? route.outcomes(push.items, ackOnce) : ackOnce(),
    );
  }

  private onFeed(raw: unknown, ack: unknown): void {
    this.onPush(raw, ack, decodeFeedPush, (route, push, ackOnce) =>
      route.feed ? route.feed(push, ackOnce) : ackOnce(),
    );
  }

  /** Decodes a push and hands it to its subscription's route; anything else is acknowledged. */
  private onPush<P extends { subscriptionId: string }>(
    raw: unknown,
    ack: unknown,
    decode: (raw: unknown) => P,
    deliver: (route: PushRoute, push: P, ackOnce: () => void) => void,
  ): void {
    const generation = this.generation;
    const ackOnce = (): void => {
      if (generation === this.generation && typeof ack === 'function') (ack as () => void)();
    };
    let push: P;
    try {
      push = decode(raw);
    } catch (error) {
      const id = isRecord(raw) ? raw.subscriptionId : undefined;
      const route = typeof id === 'string' ? this.routes.get(id) : undefined;
      route?.invalid(asTabgridError(error, ErrorCode.PROTOCOL));
      ackOnce();
      return;
    }
    const route = this.routes.get(push.subscriptionId);
    // Pushes racing an unsubscribe are acknowledged so the server never waits on them.
    if (route) deliver(route, push, ackOnce);
    else ackOnce();
  }

  private onEnd(raw: unknown): void {
    let end;
    try {
      end = decodeStreamEnd(raw);
    } catch (error) {
      const id = isRecord(raw) ? raw.subscriptionId : undefined;
      if (typeof id === 'string')
        this.routes.get(id)?.invalid(asTabgridError(error, ErrorCode.PROTOCOL));
      return;
    }
    this.routes.get(end.subscriptionId)?.end(end.reason, end.message);
  }

  /**
   * Leaves a node that does not answer for the next one: its socket stops retrying and a new one
   * opens there, at once while nodes of this round are untried, after a pause once all were.
   * Waiting requests and subscriptions carry on on the new socket (they wait for `connected`).
   */
  private failOver(socket: ClientSocket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    socket.removeAllListeners();
    socket.disconnect();
    this.at = (this.at + 1) % this.options.urls.length;
    this.misses += 1;
    const pause = this.misses % this.options.urls.length === 0 ? FAILOVER_ROUND_PAUSE_MS : 0;
    setTimeout(() => {
      if (!this.fatal && this.socket === undefined) this.open();
    }, pause);
  }

  /** Stops retrying a socket that never connected; the next request opens a new one. */
  private giveUp(socket: ClientSocket, error: TabgridError): void {
    if (this.socket === socket) this.socket = undefined;
    this.unreachable = [];
    this.at = 0;
    socket.disconnect();
    for (const listener of [...this.listeners]) listener.unreachable?.(error);
  }

  private fail(error: TabgridError): void {
    if (this.fatal) return;
    this.fatal = error;
    for (const listener of [...this.listeners]) listener.failed?.(error);
  }
}

/**
 * What a {@link Job}, its streams and its feeds need from the client's link to a grid: requests
 * answered with the protocol's data, pushes routed to subscriptions, and connection events.
 * {@link Connection} (socket.io to a server) and `LocalConnection` (local/local-connection.ts:
 * this process's worker threads, no server) both implement it, so everything built on top runs
 * unchanged on either.
 */
import type { SdkRequest, SdkRequestName, SdkResponses } from '@tabgrid/protocol/sdk';
import type { ConnectionListener, PushRoute, RequestOptions } from './connection.js';

export type { ConnectionListener, PushRoute, RequestOptions } from './connection.js';

export interface SdkTransport {
  /** The `data` of the request's answer, decoded; an error answer is thrown as a TabgridError. */
  request<E extends SdkRequestName>(
    event: E,
    payload: SdkRequest<E>,
    options?: RequestOptions,
  ): Promise<SdkResponses[E]>;
  /** Sends a request whose answer nobody waits for (e.g. `job:unsubscribe`). */
  notify<E extends SdkRequestName>(event: E, payload: SdkRequest<E>): void;
  /** Routes pushes of `subscriptionId` to `route`; returns the function that stops it. */
  route(subscriptionId: string, route: PushRoute): () => void;
  /** Registers a listener; returns the function that removes it. */
  listen(listener: ConnectionListener): () => void;
  /** Ends the link: pending requests and streams fail with DISCONNECTED. */
  close(): void;
}

/** Each client's transport, for SDK modules that act on a client (local/replay.ts). */
const transports = new WeakMap<object, SdkTransport>();

/** Records `client`'s transport (its constructor does). */
export function bindTransport(client: object, transport: SdkTransport): void {
  transports.set(client, transport);
}

/** The transport of a client built by this SDK. */
export function transportOf(client: object): SdkTransport {
  const transport = transports.get(client);
  if (!transport) throw new TypeError('Not a Tabgrid client of this SDK.');
  return transport;
}

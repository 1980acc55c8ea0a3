/** The SDK socket's types, shared by its request handlers (sdk-socket.ts, sdk-feeds.ts). */
import type { Socket } from 'socket.io';
import type {
  ClientToServerEvents,
  SdkRequest,
  SdkRequestName,
  SdkResponses,
  ServerToClientEvents,
} from '@tabgrid/protocol/sdk';
import type { Caller } from '../core/grid.js';

export interface SocketData {
  caller: Caller;
  /** This socket's open stream subscriptions, by subscriptionId. */
  subscriptions: Set<string>;
  /** Packets waiting for the client to read (sdk-socket.ts counts them). */
  queued: () => number;
}
export type SdkSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
export type Handler<E extends SdkRequestName> = (
  caller: Caller,
  req: SdkRequest<E>,
  socket: SdkSocket,
) => Promise<SdkResponses[E]> | SdkResponses[E];
/** One handler per client → server event of the protocol. */
export type SdkHandlers = { [E in SdkRequestName]: Handler<E> };

import type { OperatorInfo, WorkerCapabilities } from '@tabgrid/protocol/jobs';
import { encodeBinaryFrame, hasBytes } from '@tabgrid/protocol/binary-frame';
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import {
  WORKER_SOCKET_PATH,
  WorkerCloseCode,
  decodeServerToWorkerBytes,
  type ServerToWorker,
  type WorkerToServer,
} from '@tabgrid/protocol/worker';
import { backoffDelay } from './backoff';
import { withLiveBytes } from './live-bytes';

export type ServerJobMessage = Extract<ServerToWorker, { type: 'job' }>;
export type ServerTasksMessage = Extract<ServerToWorker, { type: 'tasks' }>;
export type ServerCancelMessage = Extract<ServerToWorker, { type: 'cancel' }>;
export type ServerMessagesMessage = Extract<ServerToWorker, { type: 'messages' }>;
export type ServerLimitMessage = Extract<ServerToWorker, { type: 'limit' }>;

export type ConnectionStatus =
  | { state: 'connecting' }
  | { state: 'connected'; workerId: string; operator?: OperatorInfo }
  | { state: 'reconnecting'; retryAt: number }
  | { state: 'reload-required'; reason: string }
  | { state: 'stopped' };

export interface WorkerConnectionHandlers {
  /** The socket opened: what to announce in `hello`. */
  onOpen(): { threads: number; credit: number; capabilities?: WorkerCapabilities };
  onJob(message: ServerJobMessage): void;
  /** `binary`: it came as a binary frame, its inputs may hold typed arrays (live-bytes.ts). */
  onTasks(message: ServerTasksMessage, binary: boolean): void;
  onCancel(message: ServerCancelMessage): void;
  /** `job.tell()` messages for a job's threads (the backlog after `job`, then live ones). */
  onMessages(message: ServerMessagesMessage): void;
  /** A job reached a per-job limit (its series): `tabgrid.collect` throws from now on. */
  onLimit(message: ServerLimitMessage): void;
  /** The socket is gone, whatever the reason: everything tied to it is void. */
  onClose(): void;
  onStatus(status: ConnectionStatus): void;
}

/** A connection that stayed up this long was healthy: the next failure starts backoff afresh. */
const HEALTHY_AFTER_MS = 10_000;

/** The URL of the server's worker socket, from the page's own location. */
export function workerSocketUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${WORKER_SOCKET_PATH}`;
}

/**
 * The volunteer's WebSocket to the server: hello on open, every frame validated by the
 * protocol's decoder, reconnects with exponential backoff and jitter, and gives up only when
 * the server says this page speaks another protocol version (reload needed).
 */
export class WorkerConnection {
  private socket: WebSocket | undefined;
  private openedAt = 0;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private status: ConnectionStatus = { state: 'stopped' };

  constructor(
    private readonly url: string,
    private readonly handlers: WorkerConnectionHandlers,
  ) {}

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Connects (if not already connected or waiting to reconnect). */
  start(): void {
    if (this.running || this.status.state === 'reload-required') return;
    this.running = true;
    this.connect();
  }

  /** Closes for good (until {@link start}); nothing is reconnected. */
  stop(reason = 'stopped'): void {
    this.running = false;
    this.clearRetry();
    this.drop(1000, reason);
    if (this.status.state !== 'reload-required') this.setStatus({ state: 'stopped' });
  }

  /** Closes and connects again at once, e.g. to announce a new thread count. */
  restart(reason: string): void {
    this.stop(reason);
    this.start();
  }

  send(message: WorkerToServer): void {
    this.sendText(JSON.stringify(message));
  }

  /**
   * Sends a frame that is already JSON text (outcome batches are built as text), or already a
   * binary frame (outcomes whose typed arrays the threads attached: attached-frame.ts).
   */
  sendText(frame: string | Uint8Array): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    // Text carrying typed arrays in the text form goes as a binary frame: its bytes travel raw.
    if (typeof frame !== 'string') this.socket.send(frame);
    else this.socket.send(hasBytes(frame) ? encodeBinaryFrame(frame) : frame);
  }

  private connect(): void {
    this.clearRetry();
    this.setStatus({ state: 'connecting' });
    this.openedAt = 0;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.openedAt = performance.now();
      const { threads, credit, capabilities } = this.handlers.onOpen();
      const userAgent = navigator.userAgent.slice(0, 1000);
      this.send({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        threads,
        userAgent,
        credit,
        ...(capabilities ? { capabilities } : {}),
      });
    };
    socket.binaryType = 'arraybuffer'; // binary frames carry typed arrays (binary-frame.ts)
    socket.onmessage = (event: MessageEvent) => this.onFrame(event.data);
    // No `error` handler: an error is always followed by `close`, where reconnecting happens.
    socket.onclose = (event: CloseEvent) => this.onSocketClose(socket, event.code, event.reason);
  }

  private onFrame(data: unknown): void {
    let message: ServerToWorker;
    const binary = typeof data !== 'string';
    try {
      message = decodeServerToWorkerBytes(data);
      if (binary) message = withLiveBytes(message);
    } catch (error) {
      console.error('[tabgrid] closing the connection after an invalid server frame:', error);
      this.drop(WorkerCloseCode.PROTOCOL_ERROR, 'invalid server frame');
      this.scheduleReconnect();
      return;
    }
    switch (message.type) {
      case 'welcome':
        if (message.protocol !== PROTOCOL_VERSION) {
          this.requireReload(
            `the server speaks protocol ${message.protocol}, this page ${PROTOCOL_VERSION}`,
          );
          return;
        }
        this.setStatus({
          state: 'connected',
          workerId: message.workerId,
          ...(message.operator ? { operator: message.operator } : {}),
        });
        return;
      case 'job':
        this.handlers.onJob(message);
        return;
      case 'tasks':
        this.handlers.onTasks(message, binary);
        return;
      case 'cancel':
        this.handlers.onCancel(message);
        return;
      case 'messages':
        this.handlers.onMessages(message);
        return;
      case 'limit':
        this.handlers.onLimit(message);
        return;
    }
  }

  private onSocketClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.handlers.onClose();
    if (code === WorkerCloseCode.VERSION_MISMATCH) {
      this.requireReload(reason || 'the server speaks another protocol version');
      return;
    }
    if (this.openedAt > 0 && performance.now() - this.openedAt > HEALTHY_AFTER_MS) this.attempt = 0;
    this.scheduleReconnect();
  }

  /** Detaches from the current socket and closes it; the caller decides what comes next. */
  private drop(code: number, reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.close(code, reason);
    this.handlers.onClose();
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    const delay = backoffDelay(this.attempt++);
    this.setStatus({ state: 'reconnecting', retryAt: Date.now() + delay });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private requireReload(reason: string): void {
    this.running = false;
    this.clearRetry();
    this.drop(1000, 'reload required');
    this.setStatus({ state: 'reload-required', reason });
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    this.handlers.onStatus(status);
  }
}

/**
 * What `new Tabgrid({ local: { threads } })` talks to: a {@link SdkTransport} whose engine
 * (local-connection.ts: requests answered in-process, tasks on worker threads) is loaded on
 * first use by a dynamic import, so that browser bundles of the SDK (the dashboard's) carry
 * none of it. Routes and listeners live here, so they can be registered before it has loaded.
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { SdkRequest, SdkRequestName, SdkResponses } from '@tabgrid/protocol/sdk';
import type { ConnectionListener, PushRoute, SdkTransport } from '../transport.js';
import type { LocalConnection } from './local-connection.js';

/** Options of a local run: `new Tabgrid({ local: { threads } })`. */
export interface LocalOptions {
  /** Worker threads running tasks (default: the machine's cores less one, at least 1). */
  threads?: number;
}

/** Most threads a local run starts. */
export const MAX_LOCAL_THREADS = 256;

function defaultThreads(): number {
  const os = process.getBuiltinModule?.('node:os') as { availableParallelism?: () => number };
  return Math.max(1, (os?.availableParallelism?.() ?? 2) - 1);
}

function threadCount(threads: number | undefined): number {
  const n = threads ?? defaultThreads();
  if (!Number.isInteger(n) || n < 1 || n > MAX_LOCAL_THREADS) {
    throw new TabgridError(
      ErrorCode.INVALID_REQUEST,
      `local.threads must be a whole number from 1 to ${MAX_LOCAL_THREADS} (got ${String(threads)}).`,
    );
  }
  return n;
}

function closedError(): TabgridError {
  return new TabgridError(ErrorCode.DISCONNECTED, 'This Tabgrid client was closed.');
}

export class LocalTransport implements SdkTransport {
  private readonly routes = new Map<string, PushRoute>();
  private readonly listeners = new Set<ConnectionListener>();
  private readonly engine: Promise<LocalConnection>;
  private closed = false;

  constructor(options: LocalOptions = {}) {
    const threads = threadCount(options.threads);
    this.engine = import('./local-connection.js').then(
      (m) => new m.LocalConnection(threads, (id) => this.routes.get(id)),
    );
    // A failure (no worker threads here) is the first request's to report.
    this.engine.catch(() => undefined);
  }

  async request<E extends SdkRequestName>(
    event: E,
    payload: SdkRequest<E>,
  ): Promise<SdkResponses[E]> {
    if (this.closed) throw closedError();
    const engine = await this.engine;
    if (this.closed) throw closedError();
    return engine.request(event, payload);
  }

  notify<E extends SdkRequestName>(event: E, payload: SdkRequest<E>): void {
    this.request(event, payload).catch(() => undefined);
  }

  route(subscriptionId: string, route: PushRoute): () => void {
    this.routes.set(subscriptionId, route);
    return () => {
      if (this.routes.get(subscriptionId) === route) this.routes.delete(subscriptionId);
    };
  }

  listen(listener: ConnectionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.engine.then(
      (engine) => engine.close(),
      () => undefined,
    );
    const error = closedError();
    for (const listener of [...this.listeners]) listener.failed?.(error);
  }
}

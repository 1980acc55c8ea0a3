/**
 * The dashboard's live feed: one socket.io connection that subscribes to `dashboard:stats`
 * (aggregated once a second by the server) and keeps retrying while the server is away.
 */
import { io, type Socket } from 'socket.io-client';
import { ErrorCode, TabgridError, asTabgridError, errorFromBody } from '@tabgrid/protocol/errors';
import { decodeErrorBody } from '@tabgrid/protocol/http';
import {
  decodeDashboardStats,
  type DashboardStats,
  type RateSample,
  type StatsSample,
} from '@tabgrid/protocol/dashboard';
import {
  decodeSdkAck,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '@tabgrid/protocol/sdk';

/**
 * Where the connection stands: `connecting` (first attempt), `live`, `unreachable` (retrying
 * by itself), or `refused` (the server refused the token: the feed stops).
 */
export type DashboardFeedStatus =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'refused'; error: TabgridError };

export interface DashboardFeedOptions {
  /** Server address, e.g. `location.origin`. */
  url: string;
  token: string;
  /** Also receive this job's detail (latest results, error groups, durations). */
  jobId?: string;
  /**
   * The last 15 minutes of samples on every (re)subscription, and the watched job's
   * throughput over that window (`job`, when a job is watched).
   */
  onHistory?(samples: StatsSample[], job?: RateSample[]): void;
  /** About once a second while subscribed. */
  onStats(stats: DashboardStats): void;
  onStatus?(status: DashboardFeedStatus): void;
  /**
   * The server refused a subscription (e.g. `TG_ERR_JOB_NOT_FOUND` for a job this token cannot
   * see; the feed goes on without detail), or sent a push that fails validation (dropped).
   */
  onError?(error: TabgridError): void;
}

type FeedSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const SERVER_DISCONNECT_RETRY_MS = 1000;

/** The error a handshake refusal's `data` describes, decoded by the protocol. */
function refusalError(data: unknown, message: string): TabgridError {
  try {
    return errorFromBody(decodeErrorBody(data));
  } catch {
    return new TabgridError(ErrorCode.UNAUTHORIZED, message);
  }
}

/**
 * A live `dashboard:stats` subscription. Pushes are validated by the protocol before they
 * reach `onStats`; an invalid push is dropped and reported to `onError`.
 *
 * @example
 * const feed = new DashboardFeed({
 *   url: location.origin,
 *   token,
 *   onStats: (s) => console.log(s.sample.tasksPerSecond, 'tasks/s'),
 *   onStatus: (s) => console.log(s.kind),
 * });
 * feed.watchJob(jobId); // adds that job's detail to the pushes
 * feed.close();
 */
export class DashboardFeed {
  private readonly socket: FeedSocket;
  private jobId: string | undefined;
  private closed = false;

  constructor(private readonly options: DashboardFeedOptions) {
    this.jobId = options.jobId;
    const url = new URL(options.url);
    this.socket = io(url.origin, {
      path: `${url.pathname.replace(/\/+$/, '')}/socket.io/`,
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelayMax: 5000,
      auth: { token: options.token },
    });
    this.status({ kind: 'connecting' });
    this.socket.on('connect', () => this.subscribe());
    this.socket.on('disconnect', (reason) => {
      if (this.closed) return;
      this.status({ kind: 'unreachable', reason: 'the connection to the server dropped' });
      // socket.io does not reconnect after a server-side disconnect (e.g. a restart); we do.
      if (reason === 'io server disconnect') {
        setTimeout(() => {
          if (!this.closed) this.socket.connect();
        }, SERVER_DISCONNECT_RETRY_MS);
      }
    });
    this.socket.on('connect_error', (error: Error & { data?: unknown }) => {
      if (this.closed) return;
      // An active socket keeps retrying by itself; an inactive one was refused by the server.
      if (this.socket.active) {
        this.status({ kind: 'unreachable', reason: error.message });
        return;
      }
      this.status({ kind: 'refused', error: refusalError(error.data, error.message) });
    });
    this.socket.on('dashboard:stats', (raw: unknown) => {
      let stats: DashboardStats;
      try {
        stats = decodeDashboardStats(raw);
      } catch (error) {
        this.options.onError?.(asTabgridError(error));
        return;
      }
      // Pushes for a previous target may still arrive just after a retarget: drop their detail.
      if (stats.detail && stats.detail.job.id !== this.jobId) {
        const { detail: _stale, ...rest } = stats;
        stats = rest;
      }
      this.options.onStats(stats);
    });
  }

  /** Adds `jobId`'s detail to the pushes (or, with `undefined`, stops sending any detail). */
  watchJob(jobId: string | undefined): void {
    if (jobId === this.jobId) return;
    this.jobId = jobId;
    if (this.socket.connected) this.subscribe();
  }

  /** Stops the feed and closes its connection. */
  close(): void {
    this.closed = true;
    this.socket.disconnect();
  }

  private subscribe(): void {
    const jobId = this.jobId;
    const payload = jobId === undefined ? {} : { jobId };
    this.socket.emit('dashboard:subscribe', payload, (raw: unknown) => {
      if (this.closed || jobId !== this.jobId) return;
      this.status({ kind: 'live' });
      let answer;
      try {
        answer = decodeSdkAck['dashboard:subscribe'](raw);
      } catch (error) {
        this.options.onError?.(asTabgridError(error));
        return;
      }
      if (!answer.ok) {
        this.options.onError?.(errorFromBody(answer));
        return;
      }
      this.options.onHistory?.(answer.data.samples, answer.data.job);
    });
  }

  private status(status: DashboardFeedStatus): void {
    this.options.onStatus?.(status);
  }
}

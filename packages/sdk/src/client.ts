import { toSocketForm } from '@tabgrid/protocol/bytes';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { KeyAdmin } from './keys.js';
import type { WorkerMonitor } from '@tabgrid/protocol/feeds';
import type { CreateJobRequest, JobInfo } from '@tabgrid/protocol/jobs';
import type { BatchOptions } from './batches.js';
import { Connection } from './connection.js';
import { LocalTransport, type LocalOptions } from './local/local-transport.js';
import { Job, type JobContext } from './job.js';
import { checkArgs, contextWithValues, programWithValues, type ValuesMode } from './values.js';
import { Pool, type PoolOptions } from './pool/pool.js';
import { programSource, type PoolFunction, type RunFunction } from './program-source.js';
import { DEFAULT_HIGH_WATER_MARK } from './streams.js';
import { bindTransport, type SdkTransport } from './transport.js';

export { programSource, type PoolFunction, type RunFunction } from './program-source.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** Options of a {@link Tabgrid} client; every one has a default. */
export interface TabgridOptions {
  /**
   * Server address, or the addresses of several nodes of one grid (README, "Several nodes"):
   * the client uses the first that answers and moves to another when its node dies, resuming
   * every stream where it was. Default `TABGRID_URL` (addresses separated by commas), else
   * `http://127.0.0.1:8080`.
   */
  url?: string | readonly string[];
  /** API token; default `TABGRID_TOKEN` (printed by `npm start`). */
  token?: string;
  /** Longest wait for the server's answer to a request while connected (ms, default 30 000). */
  timeoutMs?: number;
  /** Longest a request waits for a (re)connection before failing (ms, default 15 000). */
  connectTimeoutMs?: number;
  /** Outcomes buffered per stream before the server is asked to wait (default 10 000). */
  highWaterMark?: number;
  /** Submission batches awaiting acknowledgement at once (default 4). */
  submitWindow?: number;
  /** How tasks are cut into submission batches (default 1000 tasks / ~512 KB). */
  batch?: BatchOptions;
  /**
   * Tasks, args and results JSON cannot carry faithfully: `'strict'` (default) refuses them
   * with TG_ERR_UNFAITHFUL_VALUE naming the path; `'lossy'` converts them as JSON.stringify
   * does. Each job may say otherwise (`createJob({ values })`). See the README's "Values".
   */
  values?: ValuesMode;
  /**
   * Run jobs in this process's worker threads, with no server (README, "Local runs"): for
   * trying and testing your own job code; not a sandbox. `url` and `token` are then unused.
   */
  local?: LocalOptions;
}

/**
 * What `createJob` takes: the job's options, with `program` either JavaScript source that
 * defines `function Run(input, args)`, or a function (sent as `var Run = (<its source>);`).
 */
export type JobSpec<T = unknown> = Omit<CreateJobRequest, 'program'> & {
  program: string | RunFunction<T>;
  /** This job's values mode (default: the client's `values`, else `'strict'`). */
  values?: ValuesMode;
};

function env(name: string): string | undefined {
  // Guarded: browsers have no `process`.
  const value = typeof process === 'undefined' ? undefined : process.env[name];
  return value === '' ? undefined : value;
}

function isHttpUrl(url: string): boolean {
  try {
    return /^https?:$/.test(new URL(url).protocol);
  } catch {
    return false;
  }
}

/** The addresses `url` (or TABGRID_URL, comma-separated) names, each checked. */
function serverUrls(option: string | readonly string[] | undefined): string[] {
  const given = option ?? env('TABGRID_URL')?.split(',') ?? [DEFAULT_URL];
  const urls = (typeof given === 'string' ? [given] : [...given]).map((url) => url.trim());
  if (urls.length === 0) {
    throw new TabgridError(ErrorCode.INVALID_REQUEST, 'Tabgrid url: give at least one address.');
  }
  for (const url of urls) {
    if (!isHttpUrl(url)) {
      throw new TabgridError(
        ErrorCode.INVALID_REQUEST,
        `Invalid Tabgrid url "${url}": expected an http(s) address such as ${DEFAULT_URL}.`,
      );
    }
  }
  return urls;
}

/**
 * A client of one Tabgrid server (or of several nodes of one grid), over one socket.io connection opened on first use. Call
 * `close()` when done, or a Node process stays alive.
 *
 * @example
 * import { Tabgrid } from '@tabgrid/sdk';
 *
 * const tg = new Tabgrid({ url: 'http://127.0.0.1:8080', token: process.env.TABGRID_TOKEN });
 * const job = await tg.createJob({ program: (d: number) => d * 2, name: 'double' });
 * console.log(await job.map([1, 2, 3])); // [2, 4, 6]
 * await tg.close();
 */
export class Tabgrid {
  /** The first server address (REST calls such as `keys` go there). */
  readonly url: string;
  /** Every address given, in order of preference. */
  readonly urls: readonly string[];
  /** API key management (admin tokens only). */
  readonly keys: KeyAdmin;
  private readonly connection: SdkTransport;
  private readonly context: JobContext;

  constructor(options: TabgridOptions = {}) {
    this.urls = serverUrls(options.url);
    this.url = this.urls[0]!;
    const token = options.token ?? env('TABGRID_TOKEN');
    this.keys = new KeyAdmin(this.url, token);
    this.connection = options.local
      ? new LocalTransport(options.local)
      : new Connection({
          urls: this.urls,
          token,
          timeoutMs: options.timeoutMs ?? 30_000,
          connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
        });
    bindTransport(this, this.connection);
    this.context = {
      connection: this.connection,
      highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      window: options.submitWindow ?? 4,
      batch: { ...options.batch, values: options.values ?? options.batch?.values ?? 'strict' },
    };
  }

  /**
   * Creates a job. `program` is source text defining `function Run(input, args)`, or a
   * function. A function travels as source only: closures and imports do not come along.
   *
   * @example
   * const job = await tg.createJob({
   *   program: (n: number, args: { exp: number }) => n ** args.exp,
   *   name: 'powers',
   *   args: { exp: 3 },
   *   timeoutMs: 5_000,
   * });
   */
  async createJob<T = unknown>(spec: JobSpec<T>): Promise<Job<T>> {
    const { program, values = this.context.batch.values ?? 'strict', ...rest } = spec;
    checkArgs(rest.args, values);
    // Not resent after a dropped connection: the job might have been created twice.
    const info = await this.connection.request('job:create', {
      ...rest,
      ...(rest.args === undefined ? {} : { args: toSocketForm(rest.args) }),
      program: programWithValues(programSource(program), values),
    });
    return new Job<T>(contextWithValues(this.context, values), info.id, info);
  }

  /**
   * A pool of `program` (a function or source defining `Run`): `map`, `imap`, `unorderedImap`,
   * `mapAsync` and `star()`, each call one job of its own named `options.name` (default
   * `'pool'`) with the other job options (`args`, `timeoutMs`, …). Creates nothing yet.
   *
   * @example
   * const pool = tg.pool((x: number) => x * x, { name: 'squares' });
   * const squares = await pool.map([1, 2, 3]); // [1, 4, 9]
   */
  pool<T = unknown>(program: string | PoolFunction<T>, options: PoolOptions = {}): Pool<T> {
    return new Pool<T>(this, program, options);
  }

  /**
   * Every job this token owns.
   *
   * @example
   * for (const j of await tg.jobs()) console.log(j.id, j.state, `${j.finished}/${j.total}`);
   */
  async jobs(): Promise<JobInfo[]> {
    return this.connection.request('jobs:list', {}, { retry: true });
  }

  /**
   * A handle on an existing job, without asking the server anything.
   *
   * @example
   * const results = tg.job<number>(id).results();
   */
  job<T = unknown>(id: string): Job<T> {
    return new Job<T>(this.context, id);
  }

  /**
   * The newest job of that name among this token's jobs (on any machine: the name is the
   * handle), or `undefined` when there is none. Its series, logs and events stay readable long
   * after it ended.
   *
   * @example
   * const last = await tg.latestJob('my-experiment');
   * if (last) for await (const s of last.series('loss')) console.log(s.index, s.values);
   */
  async latestJob<T = unknown>(name: string): Promise<Job<T> | undefined> {
    const info = await this.connection.request('jobs:latest', { name }, { retry: true });
    return info === null ? undefined : new Job<T>(this.context, info.id, info);
  }

  /**
   * The worker monitor: each connected worker with its recent CPU, tasks/s and heap samples
   * (heap `null` where the browser does not expose it) and what each job used on it. A
   * non-admin token sees only the workers that ran its jobs, and only those jobs.
   *
   * @example
   * for (const w of await tg.workers()) console.log(w.workerId, w.samples.at(-1)?.cpu);
   */
  async workers(): Promise<WorkerMonitor[]> {
    return this.connection.request('workers:list', {}, { retry: true });
  }

  /**
   * A note at this time on the dashboard's charts (throughput, series, workers), up to 500
   * characters. Need not be awaited: a failure then goes unreported rather than becoming an
   * unhandled rejection.
   *
   * @example
   * tg.note('phase 2');
   */
  note(text: string): Promise<void> {
    // Not resent after a dropped connection: the note might then appear twice.
    const sent = this.connection.request('note:add', { text }).then(() => undefined);
    sent.catch(() => undefined);
    return sent;
  }

  /**
   * Deletes every job this token owns; resolves with how many were deleted.
   *
   * @example
   * const n = await tg.deleteJobs();
   */
  async deleteJobs(): Promise<number> {
    const { deleted } = await this.connection.request('jobs:delete', {}, { retry: true });
    return deleted;
  }

  /**
   * Closes the connection. Streams and requests still under way fail with
   * `TG_ERR_DISCONNECTED`.
   *
   * @example
   * try { await job.map(inputs) } finally { await tg.close() }
   */
  close(): Promise<void> {
    this.connection.close();
    return Promise.resolve();
  }
}

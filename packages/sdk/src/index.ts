/**
 * `@tabgrid/sdk`: submit jobs and tasks to a Tabgrid server and stream their results and
 * errors back, in Node and in browsers.
 *
 * @example
 * import { Tabgrid } from '@tabgrid/sdk';
 *
 * const tg = new Tabgrid({ token: process.env.TABGRID_TOKEN });
 * const job = await tg.createJob({ program: 'function Run(d) { return d * 2 }', name: 'double' });
 * for await (const o of job.run([1, 2, 3])) console.log(o.index, o.ok ? o.value : o.error.message);
 * await tg.close();
 */
export {
  Tabgrid,
  programSource,
  DEFAULT_URL,
  type TabgridOptions,
  type JobSpec,
  type RunFunction,
  type PoolFunction,
} from './client.js';
export {
  Job,
  type OutcomeOptions,
  type SubmitResult,
  type TaskOutcome,
  type TaskResult,
} from './job.js';
export type { JobEvent, LogLine, SeriesItem, TaskProgress } from './job-feeds.js';
export { OutcomeStream } from './streams.js';
export {
  broadcast,
  broadcastWith,
  BROADCAST_BUFFER,
  type BroadcastOptions,
  type BroadcastResults,
  type Consumer,
} from './streams/broadcast.js';
export {
  Pool,
  IMAP_WINDOW,
  type ImapOptions,
  type MapHandle,
  type PoolCallOptions,
  type PoolOptions,
  type WaitOptions,
} from './pool/pool.js';
export { JobCancelledError, TaskFailedError, type CancelReason } from './job-errors.js';
export { KeyAdmin } from './keys.js';
export { replayTask, type ReplayResult } from './local/replay.js';
export type { LocalOptions } from './local/local-transport.js';
export type { SdkTransport } from './transport.js';
export {
  DashboardFeed,
  type DashboardFeedOptions,
  type DashboardFeedStatus,
} from './dashboard-feed.js';
export { TasksFailedError, type TaskError } from './collect.js';
export type { BatchOptions, TaskSource } from './batches.js';
export type { ValuesMode } from './values.js';
export { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
export type {
  JobInfo,
  JobState,
  Provenance,
  TaskErrorType,
  TaskFailure,
  CreateJobRequest,
} from '@tabgrid/protocol/jobs';
export type { ApiKeyInfo, CreatedKey, CreateKeyRequest, Role } from '@tabgrid/protocol/keys';
export type { Note, WorkerMonitor } from '@tabgrid/protocol/feeds';

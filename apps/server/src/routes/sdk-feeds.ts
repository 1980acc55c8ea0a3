/**
 * The SDK socket's task-model requests: follow a job's feeds (logs, events, progress, a series;
 * pushed as `job:feed` with backpressure, resumed from the client's cursor), tell a job, its
 * series labels, the latest job of a name, the worker monitor and notes.
 */
import { ignoreAck, pushInRuns, type PushedValue } from './push-runs.js';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { FeedPush } from '@tabgrid/protocol/feeds';
import type { FeedItem, Grid } from '../core/grid.js';
import type { SdkHandlers, SdkSocket } from './sdk-socket-types.js';

/** Feeds and outcome streams one socket may hold open at once, together. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 64;

/**
 * Counts a new stream on this socket (outcomes and feeds alike); TG_ERR_TOO_MANY_SUBSCRIPTIONS
 * past {@link MAX_SUBSCRIPTIONS_PER_SOCKET}. Re-subscribing under the same id is not a new one.
 */
export function addSubscription(socket: SdkSocket, subscriptionId: string): void {
  const subscriptions = socket.data.subscriptions;
  if (!subscriptions.has(subscriptionId) && subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
    throw new TabgridError(
      ErrorCode.TOO_MANY_SUBSCRIPTIONS,
      `This connection already has ${MAX_SUBSCRIPTIONS_PER_SOCKET} streams open: unsubscribe one (or read the job's streams on another connection).`,
    );
  }
  subscriptions.add(subscriptionId);
}

/** Typed arrays in event data and series values go to the SDK as binary attachments. */
const feedValue: PushedValue<FeedItem> = {
  valueOf: (item) => ('data' in item ? item.data : 'values' in item ? item.values : undefined),
  withValue: (item, value) =>
    ('data' in item ? { ...item, data: value } : { ...item, values: value }) as FeedItem,
};

type FeedHandlerNames =
  | 'job:follow'
  | 'job:tell'
  | 'job:series-labels'
  | 'job:task'
  | 'jobs:latest'
  | 'workers:list'
  | 'note:add';

export function feedHandlers(grid: Grid): Pick<SdkHandlers, FeedHandlerNames> {
  return {
    'job:follow': (caller, req, socket) => {
      grid.job(caller, req.jobId);
      addSubscription(socket, req.subscriptionId);
      const { subscriptionId, jobId, feed } = req;
      grid.follow(`${socket.id}:${subscriptionId}`, jobId, feed, req.from, req.label, {
        push: (items, ready) =>
          pushInRuns(items, feedValue, (run, last) => {
            // The core hands each feed its own items: the push is of that feed's kind.
            const push = { subscriptionId, jobId, feed, items: run } as FeedPush;
            // The stream is paced by the last run's ack (the SDK acks pushes in order).
            socket.emit('job:feed', push, last ? ready : ignoreAck);
          }),
        end: (reason, message) =>
          socket.emit('job:end', {
            subscriptionId,
            jobId,
            reason,
            ...(message === undefined ? {} : { message }),
          }),
      });
      return { subscribed: true };
    },
    'job:tell': (caller, req) => grid.tell(caller, req.jobId, req.data, req.messageId),
    'job:series-labels': (caller, req) => grid.seriesLabels(caller, req.jobId),
    'job:task': (caller, req) => grid.replayTask(caller, req.jobId, req.index),
    'jobs:latest': (caller, req) => grid.latestJob(caller, req.name)?.info() ?? null,
    'workers:list': (caller) => grid.workers(caller),
    'note:add': async (caller, req) => ({ at: (await grid.note(caller, req.text)).at }),
  };
}

/** Stops every stream of this socket under `subscriptionId`, whether outcomes or a feed. */
export function stopStream(grid: Grid, socket: SdkSocket, subscriptionId: string): void {
  socket.data.subscriptions.delete(subscriptionId);
  // One id per subscription: this ends the outcome stream or the feed it names.
  grid.unsubscribe(`${socket.id}:${subscriptionId}`);
}

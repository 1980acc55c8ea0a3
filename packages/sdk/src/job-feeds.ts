/**
 * What a running job tells its submitter besides outcomes (progress, console lines, events,
 * collected series) and what the submitter tells it (`tell`): the streams and requests behind
 * `job.progress()`, `job.logs()`, `job.events()`, `job.series()`, `job.seriesLabels()` and
 * `job.tell()`.
 */
import { fromSocketForm, toSocketForm } from '@tabgrid/protocol/bytes';
import type {
  FeedItemOf,
  FeedName,
  JobEvent as WireJobEvent,
  LogLine as WireLogLine,
  SeriesItem as WireSeriesItem,
  TaskProgress as WireTaskProgress,
} from '@tabgrid/protocol/feeds';
import { FeedSubscription } from './feed-subscription.js';
import { randomId } from './ids.js';
import type { JobContext } from './job-context.js';
import { OutcomeStream } from './streams.js';

/** A running task's progress: `fraction` is absent when the task only said it is alive. */
export type TaskProgress = WireTaskProgress;
/** One console line of job code (`index` null: outside a task, in Setup or Teardown). */
export type LogLine = Omit<WireLogLine, 'seq'>;
/** One `tabgrid.emit(name, data)` of job code (`index` null: outside a task). */
export type JobEvent = Omit<WireJobEvent, 'seq'>;
/** The values one settled task collected under a label, in the order it collected them. */
export type SeriesItem = Omit<WireSeriesItem, 'seq'>;

// The fields exactly: the wire's `seq` is the subscription's cursor, not the user's.
function logLine({ index, level, message, count, workerId, at }: WireLogLine): LogLine {
  return { index, level, message, count, workerId, at };
}

function jobEvent({ index, name, data, at }: WireJobEvent): JobEvent {
  // Typed arrays arrive as binary attachments: restored to their kind here.
  return { index, name, data: fromSocketForm(data), at };
}

function seriesItem({ index, values }: WireSeriesItem): SeriesItem {
  return { index, values: fromSocketForm(values) as unknown[] };
}

/** The feeds and messages of one job (a {@link Job} delegates to it). */
export class JobFeeds {
  constructor(
    private readonly context: JobContext,
    private readonly jobId: string,
  ) {}

  progress(): OutcomeStream<TaskProgress> {
    return this.feed('progress');
  }

  logs(): OutcomeStream<LogLine> {
    return this.feed('logs').map(logLine);
  }

  events(): OutcomeStream<JobEvent> {
    return this.feed('events').map(jobEvent);
  }

  series(label: string): OutcomeStream<SeriesItem> {
    return this.feed('series', label).map(seriesItem);
  }

  seriesLabels(): Promise<string[]> {
    return this.context.connection.request(
      'job:series-labels',
      { jobId: this.jobId },
      { retry: true },
    );
  }

  /**
   * Sends `data` to the job's threads. The message id is chosen here, once: a request resent
   * after a dropped connection carries the same id, and the server stores an id only once
   * (answering the first `seq` again), so a reconnect never delivers a message twice.
   */
  tell(data: unknown): Promise<{ seq: number }> {
    const messageId = randomId();
    return this.context.connection.request(
      'job:tell',
      // Typed arrays go as socket.io binary attachments, tagged with their kind.
      { jobId: this.jobId, messageId, data: toSocketForm(data) },
      { retry: true },
    );
  }

  private feed<F extends FeedName>(feed: F, label?: string): OutcomeStream<FeedItemOf[F]> {
    return new OutcomeStream(
      () =>
        new FeedSubscription(this.context.connection, this.jobId, feed, label, {
          highWaterMark: this.context.highWaterMark,
        }),
    );
  }
}

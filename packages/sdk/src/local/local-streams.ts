/**
 * The pushes of a local run's subscriptions, as the server's outcome streams and feeds make
 * them: items after the subscriber's cursor, a batch at a time, the next batch only once the
 * previous one was acknowledged (the SDK's backpressure), and an end once the job has
 * delivered everything it ever will.
 */
import type { FeedName, FeedPush } from '@tabgrid/protocol/feeds';
import type { OutcomeKind } from '@tabgrid/protocol/jobs';
import type { StreamEnd } from '@tabgrid/protocol/sdk';
import type { PushRoute } from '../transport.js';
import type { LocalJob } from './local-job.js';

/** Most items in one push (the server's feed cap). */
const MAX_PUSH_ITEMS = 2_000;

type Source =
  | { kind: 'outcomes'; which: OutcomeKind }
  | { kind: 'feed'; feed: FeedName; label: string | undefined };

interface Stream {
  id: string;
  job: LocalJob;
  source: Source;
  /** Items with seq > cursor are still to send (outcome seq for outcomes and series). */
  cursor: number;
  /** Position in the job's list the scan resumes from (outcomes filtered by kind). */
  scan: number;
  waiting: boolean;
  /** Progress: the snapshot was sent; later pushes only send changes. */
  progressSent: Map<number, string>;
  ended: boolean;
}

export class LocalStreams {
  private readonly streams = new Map<string, Stream>();
  private scheduled = new Set<Stream>();

  constructor(private readonly routeOf: (id: string) => PushRoute | undefined) {}

  subscribe(id: string, job: LocalJob, source: Source, from: number): void {
    const stream: Stream = {
      id,
      job,
      source,
      cursor: from,
      scan: 0,
      waiting: false,
      progressSent: new Map(),
      ended: false,
    };
    this.streams.set(id, stream);
    this.schedule(stream);
  }

  unsubscribe(id: string): void {
    const stream = this.streams.get(id);
    if (stream) stream.ended = true;
    this.streams.delete(id);
  }

  /** Something of `job` changed: its streams look again (once per turn). */
  changed(job: LocalJob): void {
    for (const stream of this.streams.values()) if (stream.job === job) this.schedule(stream);
  }

  private schedule(stream: Stream): void {
    if (this.scheduled.has(stream)) return;
    this.scheduled.add(stream);
    setImmediate(() => {
      this.scheduled.delete(stream);
      this.pump(stream);
    });
  }

  private pump(stream: Stream): void {
    if (stream.ended || stream.waiting) return;
    const route = this.routeOf(stream.id);
    if (!route) return;
    const { job } = stream;
    if (job.deleted) return this.end(stream, route, 'deleted');
    const ack = (): void => {
      stream.waiting = false;
      this.schedule(stream);
    };
    const { source } = stream;
    if (source.kind === 'outcomes') {
      const items = [];
      while (stream.scan < job.outcomes.length && items.length < MAX_PUSH_ITEMS) {
        const outcome = job.outcomes[stream.scan++]!;
        if (outcome.seq <= stream.cursor) continue;
        if (source.which === 'all' || (source.which === 'results') === outcome.ok)
          items.push(outcome);
        stream.cursor = outcome.seq;
      }
      if (items.length > 0) {
        stream.waiting = true;
        route.outcomes?.(items, ack);
        return;
      }
      if (stream.scan >= job.outcomes.length && job.finished) this.end(stream, route, job.state);
      return;
    }
    const items = this.feedItems(stream, source);
    if (items.length > 0) {
      stream.waiting = true;
      const push = { subscriptionId: stream.id, jobId: job.jobId, feed: source.feed, items };
      route.feed?.(push as FeedPush, ack);
      return;
    }
    // Lines and events also come from Teardown: those feeds end once every thread has left.
    const logLike = source.feed === 'logs' || source.feed === 'events';
    if (job.finished && (!logLike || job.threadsLeft)) this.end(stream, route, job.state);
  }

  private feedItems(stream: Stream, source: Extract<Source, { kind: 'feed' }>): unknown[] {
    const { job } = stream;
    if (source.feed === 'progress') {
      const items = [];
      for (const [index, item] of job.progress) {
        const text = `${item.fraction}@${item.at}`;
        if (stream.progressSent.get(index) === text) continue;
        stream.progressSent.set(index, text);
        items.push(item);
      }
      return items;
    }
    const list =
      source.feed === 'logs'
        ? job.logs
        : source.feed === 'events'
          ? job.events
          : (job.series.get(source.label ?? '') ?? []);
    const items = [];
    while (stream.scan < list.length && items.length < MAX_PUSH_ITEMS) {
      const item = list[stream.scan++]!;
      if (item.seq <= stream.cursor) continue;
      stream.cursor = item.seq;
      items.push(item);
    }
    return items;
  }

  private end(stream: Stream, route: PushRoute, reason: StreamEnd['reason']): void {
    stream.ended = true;
    this.streams.delete(stream.id);
    route.end(reason);
  }
}

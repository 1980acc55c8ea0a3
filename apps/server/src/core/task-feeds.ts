/**
 * The task model's feeds, wired together (issue 13): the worker `report` path into the log and
 * event sinks and the progress board, messages and notes, and the feeds that follow a job. The
 * scheduler holds one; nothing here runs for a job that uses none of it.
 */
import type { JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import type { DeliveryCounters } from './delivery-counters.js';
import type { LogLine } from '@tabgrid/protocol/feeds';
import {
  FeedStreams,
  type FeedJob,
  type ProgressSource,
  type TaskProgressView,
} from './feed-streams.js';
import type { JobDirectory } from './job-directory.js';
import { JobMessages, Notes } from './job-messages.js';
import { LINE_CAPS, LogSink, type SinkJob } from './log-sink.js';
import { TaskReports, type ProgressInput } from './task-reports.js';
import type { WorkerRegistry } from './worker-registry.js';

/** JobDetail's bounds (protocol dashboard.ts): running tasks, log lines, labels shown. */
const DETAIL_PROGRESS = 200;
const DETAIL_LOG_TAIL = 50;
const DETAIL_SERIES_LABELS = 100;

export interface TaskFeedsDeps {
  store: JobStore;
  clock: Clock;
  jobs: JobDirectory;
  workers: WorkerRegistry;
  board: ProgressInput & ProgressSource;
  counters: DeliveryCounters;
  /** Per-job caps of lines and events (tests lower them). */
  caps?: { logs: number; events: number };
}

export class TaskFeeds {
  readonly logs: LogSink;
  readonly events: LogSink;
  readonly reports: TaskReports;
  readonly messages: JobMessages;
  readonly notes: Notes;
  readonly streams: FeedStreams;

  private readonly store: JobStore;
  private readonly board: ProgressSource;

  constructor(deps: TaskFeedsDeps) {
    const { store, clock, jobs } = deps;
    this.store = store;
    this.board = deps.board;
    const caps = deps.caps ?? LINE_CAPS;
    const stillThere = (job: SinkJob) => jobs.findJob(job.record.id) === job;
    const pump = (jobId: string) => this.streams.pump(jobId);
    this.logs = new LogSink('logs', { store, clock, stillThere, pump, maxPerJob: caps.logs });
    this.events = new LogSink('events', {
      store,
      clock,
      stillThere,
      pump,
      maxPerJob: caps.events,
      capLine: (job, message) => this.logs.serverLine(job, message),
    });
    this.reports = new TaskReports({
      jobs,
      board: deps.board,
      logs: this.logs,
      events: this.events,
      counters: deps.counters,
      clock,
    });
    this.messages = new JobMessages({ store, clock, workers: deps.workers });
    this.notes = new Notes({ store, clock });
    this.streams = new FeedStreams(store, (id) => jobs.findJob(id), deps.board, clock);
  }

  /** What a job's dashboard page shows of its feeds (JobDetail's task-model fields). */
  async detail(
    job: FeedJob,
  ): Promise<{ progress: TaskProgressView[]; logTail: LogLine[]; seriesLabels: string[] }> {
    const [logTail, seriesLabels] = await Promise.all([
      this.streams.tail(job, 'logs', DETAIL_LOG_TAIL) as Promise<LogLine[]>,
      this.store.seriesLabels(job.record.id, DETAIL_SERIES_LABELS),
    ]);
    return { progress: this.board.snapshot(job.record.id, DETAIL_PROGRESS), logTail, seriesLabels };
  }

  /** Writes what is pending and ends every feed (the server is closing). */
  close(): void {
    this.logs.flush();
    this.events.flush();
    this.streams.closeAll();
  }
}

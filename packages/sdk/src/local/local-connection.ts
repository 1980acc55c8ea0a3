/**
 * The engine of a local run (behind local-transport.ts, which loads it on first use): the SDK's
 * requests are decoded with the protocol's schemas and answered in this process, and tasks run
 * on this process's worker threads (local-runner.ts) with the job runtime a tab uses. `Job`, its
 * streams and pools run on it unchanged: `new Tabgrid({ local: { threads: 4 } })`.
 *
 * For trying and testing one's own job code, not a sandbox: see the README, "Local runs".
 */
import { socketFormToJson, textToSocketForm } from '@tabgrid/protocol/bytes';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import {
  decodeSdkAck,
  decodeSdkRequest,
  type SdkRequest,
  type SdkRequestName,
  type SdkResponses,
} from '@tabgrid/protocol/sdk';
import { TASK_LIMITS } from '@tabgrid/protocol/task-reports';
import { randomId } from '../ids.js';
import { SANDBOX_WORKER_SOURCE } from '@tabgrid/job-runtime/thread-source';
import type { PushRoute } from '../transport.js';
import { checkProgram } from './check-program.js';
import { LocalJob } from './local-job.js';
import { LocalRunner } from './local-runner.js';
import { LocalStreams } from './local-streams.js';
import { NodeThreads } from './node-threads.js';

type Handlers = {
  [E in SdkRequestName]: (payload: SdkRequest<E>) => SdkResponses[E] | Promise<SdkResponses[E]>;
};

/** Parsed JSON of a socket-form value, typed arrays in the text form (as the server stores them). */
function textForm(value: unknown): unknown {
  return JSON.parse(socketFormToJson(value));
}

export class LocalConnection {
  private readonly jobs = new Map<string, LocalJob>();
  private readonly runner: LocalRunner;
  private readonly streams: LocalStreams;
  private closed = false;

  constructor(
    private readonly threads: number,
    routeOf: (subscriptionId: string) => PushRoute | undefined,
  ) {
    this.streams = new LocalStreams(routeOf);
    this.runner = new LocalRunner(threads, new NodeThreads(SANDBOX_WORKER_SOURCE), {
      changed: (job) => this.streams.changed(job),
    });
  }

  async request<E extends SdkRequestName>(
    event: E,
    payload: SdkRequest<E>,
  ): Promise<SdkResponses[E]> {
    if (this.closed) {
      throw new TabgridError(ErrorCode.DISCONNECTED, 'This Tabgrid client was closed.');
    }
    const decode = decodeSdkRequest[event] as (value: unknown) => SdkRequest<E>;
    const handler = this.handlers[event];
    const data = await handler(decode(payload));
    // The answer is checked as the SDK checks a server's: a local bug fails loudly here.
    const answer = decodeSdkAck[event]({ ok: true, data });
    if (!answer.ok) throw new TabgridError(ErrorCode.INTERNAL, 'A local answer was an error.');
    return answer.data;
  }

  close(): void {
    this.closed = true;
    this.runner.close();
  }

  private job(jobId: string): LocalJob {
    const job = this.jobs.get(jobId);
    if (!job) {
      throw new TabgridError(
        ErrorCode.JOB_NOT_FOUND,
        `No job ${jobId}: list your jobs with tg.jobs().`,
      );
    }
    return job;
  }

  private finished(job: LocalJob): void {
    this.streams.changed(job);
    this.runner.finish(job);
  }

  private readonly handlers: Handlers = {
    'job:create': (req) => {
      const { program, args, ...rest } = req;
      checkProgram(program);
      const id = `local-${randomId()}`;
      const job = new LocalJob(id, rest, textForm(args ?? null), program, Date.now());
      this.jobs.set(id, job);
      this.runner.add(job);
      return job.info();
    },
    'job:get': (req) => this.job(req.jobId).info(),
    'job:submit': (req) => {
      const job = this.job(req.jobId);
      if (job.state !== 'open' && !job.batches.has(req.batchId)) {
        throw new TabgridError(
          ErrorCode.JOB_NOT_OPEN,
          `Job ${job.jobId} is ${job.state}: no more tasks can be added.`,
        );
      }
      const seen = new Set<object>();
      const batch = job.append(
        req.batchId,
        req.tasks.map((task) => socketFormToJson(task, seen)),
      );
      this.runner.pump();
      return batch;
    },
    'job:close': (req) => {
      const job = this.job(req.jobId);
      if (job.state !== 'open') {
        throw new TabgridError(ErrorCode.JOB_NOT_OPEN, `Job ${job.jobId} is ${job.state} already.`);
      }
      job.state = job.outcomes.length === job.total ? 'done' : 'closed';
      if (job.finished) this.finished(job);
      return job.info();
    },
    'job:cancel': (req) => {
      const job = this.job(req.jobId);
      if (!job.finished) {
        job.cancel(Date.now());
        job.running = 0;
        this.finished(job);
      }
      return job.info();
    },
    'job:resume': (req) => this.job(req.jobId).info(),
    'job:delete': (req) => {
      this.remove(this.job(req.jobId));
      return { deleted: true };
    },
    'jobs:list': () => [...this.jobs.values()].map((job) => job.info()),
    'jobs:delete': () => {
      const all = [...this.jobs.values()];
      for (const job of all) this.remove(job);
      return { deleted: all.length };
    },
    'job:subscribe': (req) => {
      const source = { kind: 'outcomes', which: req.kind } as const;
      this.streams.subscribe(req.subscriptionId, this.job(req.jobId), source, req.from);
      return { subscribed: true };
    },
    'job:unsubscribe': (req) => {
      this.streams.unsubscribe(req.subscriptionId);
      return { unsubscribed: true };
    },
    'job:follow': (req) => {
      const source = { kind: 'feed', feed: req.feed, label: req.label } as const;
      this.streams.subscribe(req.subscriptionId, this.job(req.jobId), source, req.from);
      return { subscribed: true };
    },
    'job:tell': (req) => {
      const job = this.job(req.jobId);
      const known = job.messages.find((m) => m.id === req.messageId);
      if (known) return { seq: known.seq };
      if (job.finished) {
        throw new TabgridError(
          ErrorCode.JOB_FINISHED,
          `Job ${job.jobId} is ${job.state}: messages reach only running jobs. Tell a job before it ends.`,
        );
      }
      const json = socketFormToJson(req.data);
      const bytes = new TextEncoder().encode(json).length;
      if (bytes > TASK_LIMITS.maxMessageBytes) {
        throw new TabgridError(
          ErrorCode.PAYLOAD_TOO_LARGE,
          `A message may be at most ${TASK_LIMITS.maxMessageBytes / 1024} KB of JSON (this one is ${bytes} bytes): send a smaller one, or put the data in the job's args or tasks.`,
        );
      }
      const total = job.messages.reduce((n, m) => n + m.json.length, 0) + json.length;
      if (
        job.messages.length >= TASK_LIMITS.maxMessagesPerJob ||
        total > TASK_LIMITS.maxMessageBytesPerJob
      ) {
        throw new TabgridError(
          ErrorCode.LIMIT_REACHED,
          `Job ${job.jobId} reached its limit of ${TASK_LIMITS.maxMessagesPerJob} messages or ${TASK_LIMITS.maxMessageBytesPerJob / (1024 * 1024)} MB in all: send fewer, larger messages, or start a new job.`,
        );
      }
      const seq = job.messages.length + 1;
      job.messages.push({ seq, json, id: req.messageId });
      this.runner.tell(job, seq, json);
      return { seq };
    },
    'job:series-labels': (req) => [...this.job(req.jobId).series.keys()].sort(),
    'job:task': (req) => {
      const job = this.job(req.jobId);
      const input = job.inputs[req.index];
      if (input === undefined) {
        throw new TabgridError(
          ErrorCode.NOT_FOUND,
          `Job ${job.jobId} has no task ${req.index}: tasks are numbered from 0 in submission order (see its total).`,
        );
      }
      return {
        index: req.index,
        input: textToSocketForm(JSON.parse(input)),
        program: job.program,
        args: textToSocketForm(job.args),
      };
    },
    'jobs:latest': (req) => {
      const named = [...this.jobs.values()].filter((job) => job.name === req.name);
      return named.at(-1)?.info() ?? null;
    },
    'workers:list': () => [
      {
        workerId: 'local',
        userAgent: `tabgrid-local (Node ${process.versions.node})`,
        threads: this.threads,
        connectedAt: new Date().toISOString(),
        samples: [],
        jobs: [],
      },
    ],
    'note:add': () => ({ at: Date.now() }),
    'dashboard:subscribe': () => {
      throw new TabgridError(
        ErrorCode.INVALID_REQUEST,
        'A local run has no dashboard: connect to a server for one.',
      );
    },
    'dashboard:unsubscribe': () => ({ unsubscribed: true }),
  };

  private remove(job: LocalJob): void {
    if (!job.finished) job.cancel(Date.now());
    job.deleted = true;
    this.jobs.delete(job.jobId);
    this.finished(job);
  }
}

/**
 * What the dashboard's job page shows of the task model: the running tasks' progress (memory),
 * the newest log lines and the series labels (store). Read once per dashboard tick, only for a
 * job someone has open, so each read is bounded: 200 tasks, 50 lines, 100 labels.
 */
import type { JobDetail } from '@tabgrid/protocol/dashboard';
import type { JobStore } from '../store/job-store.js';
import type { FeedJob, FeedStreams } from './feed-streams.js';
import type { ProgressBoard } from './progress-board.js';

const MAX_PROGRESS = 200;
const LOG_TAIL = 50;
const MAX_LABELS = 100;

export interface TaskDetailDeps {
  board: Pick<ProgressBoard, 'snapshot'>;
  streams: Pick<FeedStreams, 'readLines'>;
  store: Pick<JobStore, 'seriesLabels'>;
}

export async function taskDetail(
  deps: TaskDetailDeps,
  job: FeedJob | undefined,
  jobId: string,
): Promise<Pick<JobDetail, 'progress' | 'logTail' | 'seriesLabels'>> {
  const progress = deps.board.snapshot(jobId, MAX_PROGRESS);
  if (!job) return { progress, logTail: [], seriesLabels: [] };
  const after = Math.max(0, job.feeds.durable('logs') - LOG_TAIL);
  const [lines, seriesLabels] = await Promise.all([
    deps.streams.readLines(job, 'logs', after, LOG_TAIL),
    deps.store.seriesLabels(jobId, MAX_LABELS),
  ]);
  // readLines answers log lines for 'logs'; the union is its signature's, not its content.
  const logTail = lines.filter((line) => 'level' in line);
  return { progress, logTail, seriesLabels };
}

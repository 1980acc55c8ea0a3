import type { ThreadTask } from './sandbox-protocol';

/** A job as this page knows it. `key` is unique per `job` frame, so a reconnect never reuses it. */
export interface LocalJob {
  key: number;
  jobId: string;
  program: string;
  args: unknown;
  timeoutMs: number;
}

/** Consecutive tasks of one job handed to one thread. */
export interface Chunk {
  job: LocalJob;
  tasks: ThreadTask[];
  /** Flush after every task, so a timeout names exactly the task that hung. */
  exact: boolean;
}

import type { BatchOptions } from './batches.js';
import type { Connection } from './connection.js';

/** What a {@link Job} (and its feeds) share with their {@link Tabgrid} client. */
export interface JobContext {
  connection: Connection;
  /** Outcomes buffered per stream before the server is asked to wait. */
  highWaterMark: number;
  /** Submission batches awaiting their acknowledgement at once. */
  window: number;
  batch: BatchOptions;
}

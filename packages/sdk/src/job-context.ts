import type { BatchOptions } from './batches.js';
import type { SdkTransport } from './transport.js';

/** What a {@link Job} (and its feeds) share with their {@link Tabgrid} client. */
export interface JobContext {
  /** The grid link: a server connection, or a local run's threads. */
  connection: SdkTransport;
  /** Outcomes buffered per stream before the server is asked to wait. */
  highWaterMark: number;
  /** Submission batches awaiting their acknowledgement at once. */
  window: number;
  batch: BatchOptions;
}

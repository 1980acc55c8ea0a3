import type { Outcome } from '@tabgrid/protocol/jobs';
import type { OutcomeSink } from '../outcome-streams.js';

/** An outcome stream's consumer that records what it is pushed (acking at once) and how it ended. */
export class RecordingOutcomeSink implements OutcomeSink {
  readonly items: Outcome[] = [];
  ended: { reason: string; message?: string } | undefined;

  push(items: Outcome[], ready: () => void): void {
    this.items.push(...items);
    ready();
  }

  end(reason: string, message?: string): void {
    this.ended = message === undefined ? { reason } : { reason, message };
  }
}

/**
 * Putting a pool call's unordered outcomes back into input order: `imap` hands each value out
 * as soon as it is the next one (holding at most a window of early arrivals), `map` collects
 * them all. Input positions map to job indexes through the acknowledged batches' ranges
 * (batches are contiguous in the input, so the range after one ending at `p` starts at `p`).
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { BatchRange } from '../collect.js';
import type { TaskOutcome } from '../job.js';
import type { PoolRun } from './pool-run.js';
import type { SubmitGate } from './submit-gate.js';

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** Where each input position went: the acknowledged batches by their first position. */
export class RangeTable {
  private readonly byOffset = new Map<number, BatchRange>();
  private current: BatchRange | undefined;
  private arrived: (() => void) | undefined;

  add(range: BatchRange): void {
    this.byOffset.set(range.offset, range);
    const arrived = this.arrived;
    this.arrived = undefined;
    arrived?.();
  }

  /** The job index of input `position`, or `undefined` while its batch is unacknowledged. */
  indexOf(position: number): number | undefined {
    let range = this.current;
    if (!range || position < range.offset || position >= range.offset + range.count) {
      range = this.byOffset.get(position);
      if (!range) return undefined;
      // Positions only go up: ranges behind this one are not needed again.
      if (this.current) this.byOffset.delete(this.current.offset);
      this.current = range;
    }
    return range.firstIndex + (position - range.offset);
  }

  /** Resolves when the next range is acknowledged. */
  nextRange(): Promise<void> {
    return new Promise((resolve) => {
      this.arrived = resolve;
    });
  }

  /** Every range, for `map`'s final placement. */
  all(): BatchRange[] {
    return [...this.byOffset.values()];
  }
}

/**
 * The values of `run` in input order, each as soon as every earlier one was handed out; a
 * failed task throws its `TaskFailedError` at its place. Early arrivals wait in a map by job index; `gate` (which the run's task source passes through) is
 * advanced as positions are handed out, so at most `gate.window` of them can wait.
 */
export function orderedIterator<T>(
  run: PoolRun<T>,
  ranges: RangeTable,
  gate: SubmitGate,
): AsyncIterator<T, undefined> {
  const early = new Map<number, TaskOutcome<T>>();
  let position = 0;
  let pending: Promise<IteratorResult<TaskOutcome<T>, undefined>> | undefined;
  let ended = false;
  return {
    async next() {
      run.throwIfStopped();
      for (;;) {
        const index = ranges.indexOf(position);
        if (index !== undefined && early.has(index)) {
          const outcome = early.get(index) as TaskOutcome<T>;
          early.delete(index);
          // A failed task throws at its place, after every value before it.
          if (!outcome.ok) throw run.failed(outcome);
          position += 1;
          gate.advance(position);
          return { done: false, value: outcome.value };
        }
        if (ended) {
          if (index === undefined) return DONE; // every submitted task was handed out
          throw new TabgridError(
            ErrorCode.PROTOCOL,
            `The job's stream ended without the outcome of task ${index}.`,
          );
        }
        pending ??= run.nextSettled();
        // While this position's batch is unacknowledged, its ack may be what we wait for.
        const step =
          index === undefined ? await Promise.race([pending, ranges.nextRange()]) : await pending;
        if (step === undefined) continue; // a range arrived
        pending = undefined;
        if (step.done) ended = true;
        else early.set(step.value.index, step.value);
      }
    },
    async return() {
      await run.return();
      return DONE;
    },
  };
}

/** Every value of `run`, in input order (rejects at the first failed task, as `run` does). */
export async function collectOrdered<T>(run: PoolRun<T>, ranges: RangeTable): Promise<T[]> {
  const byIndex = new Map<number, T>();
  for (;;) {
    const step = await run.next();
    if (step.done) break;
    byIndex.set(step.value.index, step.value.value);
  }
  const all = ranges.all();
  const values = new Array<T>(all.reduce((n, r) => Math.max(n, r.offset + r.count), 0));
  for (const range of all) {
    for (let i = 0; i < range.count; i += 1) {
      const index = range.firstIndex + i;
      if (!byIndex.has(index)) {
        throw new TabgridError(
          ErrorCode.PROTOCOL,
          `The job's stream ended without the outcome of task ${index}.`,
        );
      }
      values[range.offset + i] = byIndex.get(index) as T;
    }
  }
  return values;
}

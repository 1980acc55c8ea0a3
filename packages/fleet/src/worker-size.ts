import { WORKER_LIMITS } from '@tabgrid/protocol/worker';

/**
 * Checks the size a worker announces in `hello`, its threads and credit, against
 * WORKER_LIMITS; throws a RangeError saying the range.
 */
export function checkWorkerSize(threads: number, credit: number): void {
  const { maxThreads, maxCredit } = WORKER_LIMITS;
  if (!Number.isInteger(threads) || threads < 1 || threads > maxThreads) {
    throw new RangeError(`threads must be an integer from 1 to ${maxThreads}, got ${threads}.`);
  }
  if (!Number.isInteger(credit) || credit < 1 || credit > maxCredit) {
    throw new RangeError(`credit must be an integer from 1 to ${maxCredit}, got ${credit}.`);
  }
}

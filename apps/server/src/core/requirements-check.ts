/**
 * Which tabs may run a job with `requirements` (issue 16), and, when none connected can, the
 * sentence its status shows instead of waiting silently.
 */
import { unmetRequirement, type JobRequirements, type WorkerOffer } from '@tabgrid/protocol/jobs';

/** The worker fields this check reads. */
export interface OfferingWorker {
  readonly ready: boolean;
  readonly offer: WorkerOffer;
}

/** Whether a worker with `offer` may get tasks of a job requiring `requirements`. */
export function meetsRequirements(
  requirements: JobRequirements | undefined,
  offer: WorkerOffer,
): boolean {
  return unmetRequirement(requirements, offer) === undefined;
}

/**
 * Null when some connected (hello'd) worker meets `requirements`; else why not, naming what the
 * first of them lacks ("no connected worker offers WebGPU (3 connected)"). Stops at the first
 * worker that qualifies, so the usual case costs little.
 */
export function unservableReason(
  requirements: JobRequirements,
  workers: Iterable<OfferingWorker>,
): string | null {
  let connected = 0;
  let lacking: string | undefined;
  for (const worker of workers) {
    if (!worker.ready) continue;
    const unmet = unmetRequirement(requirements, worker.offer);
    if (unmet === undefined) return null;
    connected++;
    lacking ??= unmet;
  }
  // With nobody connected, name what a worker would need to offer.
  lacking ??= unmetRequirement(requirements, { threads: 0 }) ?? 'what it requires';
  return connected === 0
    ? `no worker is connected; the job needs one that offers ${lacking}`
    : `no connected worker offers ${lacking} (${connected} connected)`;
}

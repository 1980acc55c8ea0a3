/**
 * A new job's durable record, from the caller's request: every field present (the store's
 * decoder checks each one), the task-model counters of schema version 3 at zero, the program's
 * hash of version 4.
 */
import { JOB_DEFAULTS, type CreateJobRequest } from '@tabgrid/protocol/jobs';
import { uncancelledProvenanceFields, unusedTaskModelFields } from '@tabgrid/protocol/stored';
import { programHash } from '../store/program-hash.js';
import type { JobRecord } from '../store/job-store.js';

export function newJobRecord(
  id: string,
  owner: string,
  req: CreateJobRequest,
  now: number,
): JobRecord {
  const redundancy = req.redundancy ?? JOB_DEFAULTS.redundancy;
  const timeoutMs = req.timeoutMs ?? JOB_DEFAULTS.timeoutMs;
  return {
    id,
    owner,
    name: req.name ?? 'job',
    group: req.group ?? null,
    state: 'open',
    timeoutMs,
    maxAttempts: req.maxAttempts ?? JOB_DEFAULTS.maxAttempts,
    retryErrors: req.retryErrors ?? JOB_DEFAULTS.retryErrors,
    redundancy,
    maxReplicas: Math.max(redundancy, req.maxReplicas ?? redundancy + 2),
    disagreements: 0,
    priority: req.priority ?? (req.bid === undefined ? JOB_DEFAULTS.priority : Math.round(req.bid)),
    total: 0,
    finished: 0,
    failed: 0,
    computeMs: 0,
    created: now,
    modified: now,
    lastResult: null,
    lastSeq: 0,
    paused: null,
    crashedTasks: 0,
    // Issue 13: Setup's bound defaults to the task's; the progress timeout is off unless set.
    ...unusedTaskModelFields(req.setupTimeoutMs ?? timeoutMs, req.progressTimeoutMs ?? null),
    // Issue 14: the program's hash once, for every outcome's provenance.
    ...uncancelledProvenanceFields(programHash(req.program), req.maxFailures ?? null),
    // Issue 16: what volunteers see of the job, and which tabs may run it.
    ...(req.public === undefined ? {} : { public: req.public }),
    ...(req.requirements === undefined ? {} : { requirements: req.requirements }),
  };
}

/**
 * A job's record as the API shows it (JobInfo): times as ISO strings, counts derived, and the
 * task-model fields of issue 13 (Setup times, logs, events, series, messages, usage), and
 * issue 14's (maxFailures, the server's reason for a cancel, the program's hash).
 */
import type { JobInfo } from '@tabgrid/protocol/jobs';
import type { JobRecord } from '../store/job-store.js';

export function jobInfo(
  r: Readonly<JobRecord>,
  inFlight: number,
  runnable: boolean,
  unservable: string | null = null,
): JobInfo {
  const settled = r.finished + r.failed;
  return {
    id: r.id,
    name: r.name,
    group: r.group,
    state: r.state,
    total: r.total,
    finished: r.finished,
    failed: r.failed,
    inFlight,
    queued: runnable ? Math.max(0, r.total - settled - inFlight) : 0,
    // Reports are clamped now; a record stored before that may hold Infinity (JSON null).
    computeMs: Math.round(r.computeMs),
    created: new Date(r.created).toISOString(),
    modified: new Date(r.modified).toISOString(),
    lastResult: r.lastResult === null ? null : new Date(r.lastResult).toISOString(),
    timeoutMs: r.timeoutMs,
    maxAttempts: r.maxAttempts,
    retryErrors: r.retryErrors,
    redundancy: r.redundancy,
    maxReplicas: r.maxReplicas,
    disagreements: r.disagreements,
    priority: r.priority,
    paused: r.paused,
    setupTimeoutMs: r.setupTimeoutMs,
    progressTimeoutMs: r.progressTimeoutMs,
    setups: {
      count: r.setups.count,
      totalMs: Math.round(r.setups.totalMs),
      maxMs: Math.round(r.setups.maxMs),
    },
    logs: { lines: r.logSeq, dropped: r.logsDropped },
    events: { count: r.eventSeq, dropped: r.eventsDropped },
    series: { bytes: r.seriesBytes, dropped: r.seriesDropped },
    messages: r.messageSeq,
    usage: { cpuMs: Math.round(r.cpuMs), peakHeapBytes: r.peakHeapBytes },
    maxFailures: r.maxFailures,
    cancelReason: r.cancelReason,
    programHash: r.programHash,
    public: r.public ?? null,
    requirements: r.requirements ?? null,
    unservable: runnable ? unservable : null,
  };
}

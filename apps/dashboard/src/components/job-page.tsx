import type { JobDetail, JobStats } from '@tabgrid/protocol/dashboard';
import { currentRate, estimateEtaMs, type RatePoint } from '../lib/eta.js';
import { formatAge, formatBytes, formatDuration } from '../lib/format.js';
import type { ChartNote } from '../lib/notes.js';
import { hrefFor } from '../lib/route.js';
import { Card } from './card.js';
import { DurationHistogram } from './duration-histogram.js';
import { ErrorGroups } from './error-groups.js';
import { JobActions } from './job-actions.js';
import { JobCounters } from './job-counters.js';
import { LatestResults } from './latest-results.js';
import { LogTail } from './log-tail.js';
import { ProgressBar } from './progress-bar.js';
import { SeriesChart } from './series-chart.js';
import { StateBadge } from './state-badge.js';
import { TaskProgress } from './task-progress.js';
import { ThroughputChart } from './throughput-chart.js';

interface JobPageProps {
  id: string;
  /** From the jobs list; undefined when this token cannot see the job (or it is gone). */
  job: JobStats | undefined;
  /** Arrives with the first push after subscribing to this job. */
  detail: JobDetail | undefined;
  rates: readonly RatePoint[];
  now: number;
  /** Undefined for viewer keys: no actions at all. */
  token: string | undefined;
  /** The signed-in token, whatever its role: reads (series) need it. */
  readToken: string;
  notes: readonly ChartNote[];
  onDeleted: () => void;
}

/** Setup calls, compute used and the peak heap of the tabs that ran it: one line, when known. */
function usageLine(info: JobStats): string {
  const parts: string[] = [];
  const { setups, usage, events, messages } = info;
  if (setups && setups.count > 0) {
    const average = formatDuration(setups.totalMs / setups.count);
    parts.push(
      `Setup ran ${setups.count.toLocaleString('en-US')}× (average ${average}, longest ${formatDuration(setups.maxMs)})`,
    );
  }
  if (usage && usage.cpuMs > 0) parts.push(`CPU ${formatDuration(usage.cpuMs)}`);
  if (usage && usage.peakHeapBytes !== null) {
    parts.push(`peak heap ${formatBytes(usage.peakHeapBytes)}`);
  }
  if (events && events.count > 0) parts.push(`${events.count.toLocaleString('en-US')} events`);
  if (messages)
    parts.push(
      `${messages.toLocaleString('en-US')} ${messages === 1 ? 'message' : 'messages'} told`,
    );
  return parts.join(' · ');
}

export function JobPage(props: JobPageProps) {
  const { id, job, detail, rates, now, token, readToken, notes, onDeleted } = props;
  const back = (
    <a href={hrefFor({ page: 'jobs' })} className="breadcrumb">
      ← Jobs
    </a>
  );
  if (!job) {
    return (
      <div className="stack" data-testid="job-not-found">
        {back}
        <div className="empty">
          <h3>No job {id}</h3>
          <p>It was deleted, or this token may not see it. Pick one from the jobs list.</p>
        </div>
      </div>
    );
  }
  const info = detail?.job ?? job;
  const rate = currentRate(info, rates);
  return (
    <div className="stack" data-testid="job-page">
      {back}
      <div className="job-header">
        <div className="job-header__title">
          <h1 data-testid="job-name">{info.name || 'unnamed job'}</h1>
          <StateBadge state={info.state} paused={info.paused} testId="job-state" />
        </div>
        {token === undefined ? null : <JobActions job={info} token={token} onDeleted={onDeleted} />}
      </div>
      {info.paused ? (
        <p className="notice notice--bad" role="status" data-testid="job-paused">
          Paused: {info.paused} Nothing more is dispatched until you resume or cancel it.
        </p>
      ) : null}
      {info.unservable ? (
        <p className="notice notice--bad" role="status" data-testid="job-unservable">
          Waiting for a worker: {info.unservable}. Its tasks run once a tab that meets its
          requirements connects.
        </p>
      ) : null}
      {info.state === 'cancelled' && info.cancelReason ? (
        <p className="notice notice--bad" role="status" data-testid="job-cancel-reason">
          Cancelled by the server: {info.cancelReason} (maxFailures {info.maxFailures}). Fix the
          program and run the job again.
        </p>
      ) : null}
      <p className="job-meta muted">
        <span className="mono">{info.id}</span> · created {formatAge(info.created, now)} · priority{' '}
        {info.priority} · timeout {formatDuration(info.timeoutMs)} · up to {info.maxAttempts}{' '}
        attempts
        {info.group ? ` · group ${info.group}` : ''}
      </p>
      {usageLine(info) ? (
        <p className="job-meta muted" data-testid="job-usage">
          {usageLine(info)}
        </p>
      ) : null}
      <Card>
        <ProgressBar
          finished={info.finished}
          failed={info.failed}
          total={info.total}
          large
          testId="job-progress"
        />
      </Card>
      <JobCounters job={info} rate={rate} etaMs={estimateEtaMs(info, rate)} />
      <div className="grid-2">
        <Card
          title="Throughput"
          aside={<span className="muted small">since the dashboard opened</span>}
        >
          <ThroughputChart
            points={rates}
            minWindowS={60}
            height={200}
            notes={notes}
            testId="job-chart"
          />
        </Card>
        <Card title="Task durations">
          {detail ? (
            <DurationHistogram durations={detail.durations} />
          ) : (
            <p className="empty-inline">Loading…</p>
          )}
        </Card>
      </div>
      <div className="grid-2">
        <Card
          title="Running tasks"
          aside={
            detail?.progress && detail.progress.length > 0 ? (
              <span className="muted small">{detail.progress.length} reporting progress</span>
            ) : undefined
          }
        >
          {detail ? (
            <TaskProgress progress={detail.progress ?? []} now={now} />
          ) : (
            <p className="empty-inline">Loading…</p>
          )}
        </Card>
        <Card
          title="Log"
          aside={
            info.logs && info.logs.lines > 0 ? (
              <span className="muted small">
                {info.logs.lines.toLocaleString('en-US')} lines stored
              </span>
            ) : undefined
          }
        >
          {detail ? (
            <LogTail
              lines={detail.logTail ?? []}
              dropped={info.logs?.dropped ?? 0}
              jobId={info.id}
            />
          ) : (
            <p className="empty-inline">Loading…</p>
          )}
        </Card>
      </div>
      <Card title="Series" testId="series-card">
        {detail ? (
          <SeriesChart jobId={info.id} labels={detail.seriesLabels ?? []} token={readToken} />
        ) : (
          <p className="empty-inline">Loading…</p>
        )}
      </Card>
      <div className="grid-2">
        <Card title="Latest results">
          {detail ? (
            <LatestResults results={detail.latestResults} />
          ) : (
            <p className="empty-inline">Loading…</p>
          )}
        </Card>
        <Card
          title="Errors"
          aside={
            info.failed > 0 ? (
              <span className="text-bad small">{info.failed.toLocaleString('en-US')} failed</span>
            ) : undefined
          }
        >
          {detail ? (
            <ErrorGroups groups={detail.errorGroups} />
          ) : (
            <p className="empty-inline">Loading…</p>
          )}
        </Card>
      </div>
    </div>
  );
}

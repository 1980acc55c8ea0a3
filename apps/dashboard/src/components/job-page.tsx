import type { JobDetail, JobStats } from '@tabgrid/protocol/dashboard';
import { currentRate, estimateEtaMs, type RatePoint } from '../lib/eta.js';
import { formatAge, formatDuration } from '../lib/format.js';
import { hrefFor } from '../lib/route.js';
import { Card } from './card.js';
import { DurationHistogram } from './duration-histogram.js';
import { ErrorGroups } from './error-groups.js';
import { JobActions } from './job-actions.js';
import { JobCounters } from './job-counters.js';
import { LatestResults } from './latest-results.js';
import { ProgressBar } from './progress-bar.js';
import { StateBadge } from './state-badge.js';
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
  onDeleted: () => void;
}

export function JobPage({ id, job, detail, rates, now, token, onDeleted }: JobPageProps) {
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
      <p className="job-meta muted">
        <span className="mono">{info.id}</span> · created {formatAge(info.created, now)} · priority{' '}
        {info.priority} · timeout {formatDuration(info.timeoutMs)} · up to {info.maxAttempts}{' '}
        attempts
        {info.group ? ` · group ${info.group}` : ''}
      </p>
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
          <ThroughputChart points={rates} minWindowS={60} height={200} testId="job-chart" />
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

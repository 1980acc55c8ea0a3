import type { DashboardStats, StatsSample } from '@tabgrid/protocol/dashboard';
import type { RatePoint } from '../lib/eta.js';
import { formatCount, formatRate } from '../lib/format.js';
import type { ChartNote } from '../lib/notes.js';
import { hrefFor } from '../lib/route.js';
import { Card } from './card.js';
import { EmptyJobs } from './empty-jobs.js';
import { JobsTable } from './jobs-table.js';
import { PageTitle } from './page-title.js';
import { StatTile } from './stat-tile.js';
import { ThroughputChart } from './throughput-chart.js';

interface OverviewPageProps {
  stats: DashboardStats;
  samples: readonly StatsSample[];
  jobRates: ReadonlyMap<string, readonly RatePoint[]>;
  notes: readonly ChartNote[];
  now: number;
  canSubmit: boolean;
}

const RECENT_JOBS = 6;

export function OverviewPage(props: OverviewPageProps) {
  const { stats, samples, jobRates, notes, now, canSubmit } = props;
  // The server lists workers to admins only; everyone gets their number.
  const workers = stats.sample.workers;
  // The server keeps 15 minutes of samples: less means it started less than 15 minutes ago.
  const spanMs = (samples.at(-1)?.at ?? 0) - (samples[0]?.at ?? 0);
  const chartTitle =
    spanMs >= 14 * 60_000 ? 'Throughput, last 15 minutes' : 'Throughput since the server started';
  return (
    <div className="stack" data-testid="overview-page">
      <PageTitle>Overview</PageTitle>
      <div className="tiles">
        <StatTile
          label="Workers online"
          testId="stat-workers"
          value={workers}
          hint={<span data-testid="stat-threads">{stats.threads} threads</span>}
          tone={workers > 0 ? 'ok' : 'default'}
        >
          {workers}
        </StatTile>
        <StatTile label="Tasks/s now" testId="stat-rate" value={stats.sample.tasksPerSecond}>
          {formatRate(stats.sample.tasksPerSecond)}
        </StatTile>
        <StatTile label="Queued" testId="stat-queued" value={stats.queued}>
          {formatCount(stats.queued)}
        </StatTile>
        <StatTile label="In flight" testId="stat-in-flight" value={stats.inFlight}>
          {formatCount(stats.inFlight)}
        </StatTile>
        <StatTile
          label="Jobs running"
          testId="stat-jobs-running"
          value={stats.jobsRunning}
          hint={`${stats.jobs.length} in total`}
        >
          {stats.jobsRunning}
        </StatTile>
      </div>
      <Card
        title={chartTitle}
        aside={
          <div className="legend">
            <span className="legend__item legend__item--rate">tasks/s</span>
            <span className="legend__item legend__item--workers">workers online</span>
          </div>
        }
      >
        <ThroughputChart
          points={samples}
          withWorkers
          minWindowS={60}
          notes={notes}
          testId="overview-chart"
        />
        {workers === 0 ? (
          <p className="chart-note" data-testid="no-workers-hint">
            No worker tabs are connected: open <a href="/">{location.origin}/</a> in a browser tab
            to add its cores to the grid.
          </p>
        ) : null}
      </Card>
      <Card
        title="Recent jobs"
        aside={
          stats.jobs.length > RECENT_JOBS ? (
            <a href={hrefFor({ page: 'jobs' })}>All {stats.jobs.length} jobs →</a>
          ) : undefined
        }
      >
        {stats.jobs.length === 0 ? (
          <EmptyJobs canSubmit={canSubmit} />
        ) : (
          <JobsTable jobs={stats.jobs} jobRates={jobRates} now={now} limit={RECENT_JOBS} />
        )}
      </Card>
    </div>
  );
}

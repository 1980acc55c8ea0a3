import type { JobStats } from '@tabgrid/protocol/dashboard';
import type { RatePoint } from '../lib/eta.js';
import { Card } from './card.js';
import { EmptyJobs } from './empty-jobs.js';
import { JobsTable } from './jobs-table.js';
import { PageTitle } from './page-title.js';

interface JobsPageProps {
  jobs: readonly JobStats[];
  jobRates: ReadonlyMap<string, readonly RatePoint[]>;
  now: number;
  canSubmit: boolean;
  /** A notice to show above the table (e.g. "job deleted"). */
  notice?: string | undefined;
}

export function JobsPage({ jobs, jobRates, now, canSubmit, notice }: JobsPageProps) {
  const running = jobs.filter((j) => j.state === 'open' || j.state === 'closed').length;
  return (
    <div className="stack" data-testid="jobs-page">
      <PageTitle
        aside={
          <span className="muted">
            {jobs.length} jobs · {running} running
          </span>
        }
      >
        Jobs
      </PageTitle>
      {notice ? (
        <div className="notice" role="status" data-testid="notice">
          {notice}
        </div>
      ) : null}
      <Card>
        {jobs.length === 0 ? (
          <EmptyJobs canSubmit={canSubmit} />
        ) : (
          <JobsTable jobs={jobs} jobRates={jobRates} now={now} />
        )}
      </Card>
    </div>
  );
}

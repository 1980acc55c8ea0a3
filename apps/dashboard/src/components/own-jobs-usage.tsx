import type { JobStats } from '@tabgrid/protocol/dashboard';
import type { WorkerMonitorState } from '../hooks/use-worker-monitor.js';
import { formatAge, formatDuration } from '../lib/format.js';
import type { ChartNote } from '../lib/notes.js';
import { jobHref } from '../lib/route.js';
import { describeUserAgent } from '../lib/user-agent.js';
import { Card } from './card.js';
import { PageTitle } from './page-title.js';
import { WorkerCharts } from './worker-charts.js';

interface OwnJobsUsageProps {
  monitor: WorkerMonitorState;
  jobs: readonly JobStats[];
  notes: readonly ChartNote[];
  now: number;
}

/**
 * The Workers page of a non-admin key: only the tabs that ran this key's jobs, each with the CPU
 * time those jobs used on it (the server computes CPU from their busy time and hides the heap,
 * which every job on a tab shares).
 */
export function OwnJobsUsage({ monitor, jobs, notes, now }: OwnJobsUsageProps) {
  const workers = monitor.workers ?? [];
  const nameOf = (id: string) => jobs.find((j) => j.id === id)?.name || id;
  return (
    <div className="stack" data-testid="workers-page">
      <PageTitle
        aside={
          <span className="muted" data-testid="workers-summary">
            {workers.length} {workers.length === 1 ? 'tab' : 'tabs'} ran your jobs
          </span>
        }
      >
        Workers
      </PageTitle>
      <p className="muted small">
        This key sees what its own jobs used on each tab. An admin token shows every tab.
      </p>
      {monitor.error ? (
        <p className="notice notice--bad small" role="status">
          The monitor could not be read: {monitor.error}
        </p>
      ) : null}
      <WorkerCharts workers={workers} notes={notes} ownJobsOnly />
      <Card>
        {workers.length === 0 ? (
          <div className="empty" data-testid="empty-workers">
            <h3>No tab has run your jobs lately</h3>
            <p>Tabs appear here once they have run a task of one of your jobs.</p>
          </div>
        ) : (
          <div className="table-scroll">
            <table className="table" data-testid="workers-table">
              <thead>
                <tr>
                  <th>Browser</th>
                  <th className="num">Threads</th>
                  <th>Your jobs’ CPU time</th>
                  <th className="num hide-narrow">Connected</th>
                </tr>
              </thead>
              <tbody>
                {workers.map((w) => (
                  <tr key={w.workerId} data-testid="worker-row">
                    <td title={w.userAgent}>
                      <div>{describeUserAgent(w.userAgent)}</div>
                      <div className="mono muted small">{w.workerId}</div>
                    </td>
                    <td className="num">{w.threads}</td>
                    <td>
                      {w.jobs.map((j) => (
                        <div key={j.jobId}>
                          <a href={jobHref(j.jobId)}>{nameOf(j.jobId)}</a>{' '}
                          <span className="muted">{formatDuration(j.cpuMs)}</span>
                        </div>
                      ))}
                    </td>
                    <td className="num hide-narrow">{formatAge(w.connectedAt, now)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}

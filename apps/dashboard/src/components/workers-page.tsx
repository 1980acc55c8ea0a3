import type { JobStats, WorkerStats } from '@tabgrid/protocol/dashboard';
import { useWorkerMonitor } from '../hooks/use-worker-monitor.js';
import { formatAge, formatBytes, formatCount, formatRate } from '../lib/format.js';
import type { ChartNote } from '../lib/notes.js';
import { jobHref } from '../lib/route.js';
import { describeUserAgent } from '../lib/user-agent.js';
import { Card } from './card.js';
import { OwnJobsUsage } from './own-jobs-usage.js';
import { PageTitle } from './page-title.js';
import { WorkerCharts } from './worker-charts.js';

interface WorkersPageProps {
  workers: readonly WorkerStats[];
  /** To name each worker's current job (when this token may see it). */
  jobs: readonly JobStats[];
  now: number;
  token: string;
  notes: readonly ChartNote[];
  /** Not an admin: the server shows only what this key's own jobs used. */
  ownJobsOnly: boolean;
}

function Sample({ sample }: { sample: WorkerStats['sample'] }) {
  if (!sample) return <span className="muted">—</span>;
  return (
    <>
      <span data-testid="worker-cpu">{Math.round(sample.cpu * 100)}%</span>
      {sample.heapUsed === null ? null : (
        <span className="muted small"> · {formatBytes(sample.heapUsed)}</span>
      )}
    </>
  );
}

function CurrentJob({ id, jobs }: { id: string | null; jobs: readonly JobStats[] }) {
  if (id === null) return <span className="muted">idle</span>;
  const job = jobs.find((j) => j.id === id);
  if (!job) return <span className="muted">another key's job</span>;
  return <a href={jobHref(id)}>{job.name || id}</a>;
}

export function WorkersPage({ workers, jobs, now, token, notes, ownJobsOnly }: WorkersPageProps) {
  const monitor = useWorkerMonitor(token);
  if (ownJobsOnly) {
    return <OwnJobsUsage monitor={monitor} jobs={jobs} notes={notes} now={now} />;
  }
  const threads = workers.reduce((n, w) => n + w.threads, 0);
  const sorted = [...workers].sort((a, b) => a.connectedSince.localeCompare(b.connectedSince));
  return (
    <div className="stack" data-testid="workers-page">
      <PageTitle
        aside={
          <span className="muted" data-testid="workers-summary">
            {workers.length} {workers.length === 1 ? 'tab' : 'tabs'} · {threads} threads
          </span>
        }
      >
        Workers
      </PageTitle>
      {monitor.error ? (
        <p className="notice notice--bad small" role="status">
          The monitor could not be read: {monitor.error}
        </p>
      ) : null}
      <WorkerCharts workers={monitor.workers ?? []} notes={notes} ownJobsOnly={false} />
      <Card>
        {workers.length === 0 ? (
          <div className="empty" data-testid="empty-workers">
            <h3>No worker tabs connected</h3>
            <p>
              Open <a href="/">{location.origin}/</a> in any browser tab (on this machine, or on
              others when the server listens on <code>HOST=0.0.0.0</code>): each tab joins the grid
              and appears here.
            </p>
          </div>
        ) : (
          <div className="table-scroll">
            <table className="table" data-testid="workers-table">
              <thead>
                <tr>
                  <th>Browser</th>
                  <th className="num">Threads</th>
                  <th className="num">Tasks done</th>
                  <th className="num">Tasks/s</th>
                  <th className="num hide-narrow">In flight</th>
                  <th className="num">CPU · heap</th>
                  <th>Current job</th>
                  <th className="num hide-narrow">Connected</th>
                </tr>
              </thead>
              <tbody>
                {sorted.map((w) => (
                  <tr key={w.id} data-testid="worker-row">
                    <td title={w.userAgent}>
                      <div>{describeUserAgent(w.userAgent)}</div>
                      <div className="mono muted small">
                        {w.id}
                        {w.excluded ? (
                          <>
                            {' '}
                            <span className="badge badge--error-type" data-testid="worker-excluded">
                              excluded: {w.strikes} wrong answers
                            </span>
                          </>
                        ) : w.strikes > 0 ? (
                          ` · ${w.strikes} strike${w.strikes === 1 ? '' : 's'}`
                        ) : null}
                      </div>
                    </td>
                    <td className="num">{w.threads}</td>
                    <td className="num" data-testid="worker-tasks-done" data-value={w.tasksDone}>
                      {formatCount(w.tasksDone)}
                    </td>
                    <td className="num">{formatRate(w.tasksPerSecond)}</td>
                    <td className="num hide-narrow">{w.inFlight}</td>
                    <td className="num">
                      <Sample sample={w.sample} />
                    </td>
                    <td>
                      <CurrentJob id={w.currentJob} jobs={jobs} />
                    </td>
                    <td
                      className="num hide-narrow"
                      title={new Date(w.connectedSince).toLocaleString()}
                    >
                      {formatAge(w.connectedSince, now)}
                    </td>
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

import type { JobStats } from '@tabgrid/protocol/dashboard';
import { etaPlaceholder, lifetimeRate } from '../lib/eta.js';
import { formatDuration, formatRate } from '../lib/format.js';
import { StatTile } from './stat-tile.js';

interface JobCountersProps {
  job: JobStats;
  rate: number;
  etaMs: number | undefined;
}

const exact = (n: number) => n.toLocaleString('en-US');

/** Exact counters (not abbreviated): people compare them with their own totals. */
export function JobCounters({ job, rate, etaMs }: JobCountersProps) {
  const running = job.state === 'open' || job.state === 'closed';
  return (
    <div className="tiles tiles--dense">
      <StatTile label="Total" testId="count-total" value={job.total}>
        {exact(job.total)}
      </StatTile>
      <StatTile label="Finished" testId="count-finished" value={job.finished} tone="ok">
        {exact(job.finished)}
      </StatTile>
      <StatTile
        label="Failed"
        testId="count-failed"
        value={job.failed}
        tone={job.failed > 0 ? 'bad' : 'default'}
      >
        {exact(job.failed)}
      </StatTile>
      <StatTile label="In flight" testId="count-in-flight" value={job.inFlight}>
        {exact(job.inFlight)}
      </StatTile>
      <StatTile label="Queued" testId="count-queued" value={job.queued}>
        {exact(job.queued)}
      </StatTile>
      <StatTile
        label="Tasks/s"
        testId="job-rate"
        value={rate}
        hint={running ? undefined : `average ${formatRate(lifetimeRate(job))}`}
      >
        {formatRate(rate)}
      </StatTile>
      <StatTile label="ETA" testId="job-eta">
        {etaMs === undefined ? (
          <span className="muted">{etaPlaceholder(job)}</span>
        ) : (
          formatDuration(etaMs)
        )}
      </StatTile>
      <StatTile label="Compute time" testId="job-compute" value={job.computeMs}>
        {formatDuration(job.computeMs)}
      </StatTile>
      {job.redundancy > 1 && (
        <StatTile
          label="Disagreements"
          testId="job-disagreements"
          value={job.disagreements}
          tone={job.disagreements > 0 ? 'bad' : 'default'}
          hint={`redundancy ${job.redundancy}, up to ${job.maxReplicas} replicas`}
        >
          {exact(job.disagreements)}
        </StatTile>
      )}
    </div>
  );
}

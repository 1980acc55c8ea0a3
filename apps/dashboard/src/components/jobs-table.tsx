/** Every job the token may see: sortable by each column, each row links to its job page. */
import { useMemo, useState } from 'react';
import type { JobStats } from '@tabgrid/protocol/dashboard';
import { currentRate, etaPlaceholder, type RatePoint } from '../lib/eta.js';
import { formatAge, formatDuration, formatRate } from '../lib/format.js';
import { jobHref } from '../lib/route.js';
import {
  DEFAULT_SORT,
  nextSort,
  sortJobRows,
  toJobRow,
  type SortKey,
  type SortOrder,
} from '../lib/sort-jobs.js';
import { ProgressBar } from './progress-bar.js';
import { StateBadge } from './state-badge.js';

interface JobsTableProps {
  jobs: readonly JobStats[];
  jobRates: ReadonlyMap<string, readonly RatePoint[]>;
  now: number;
  /** Show only the first rows (the overview); the rest are on the jobs page. */
  limit?: number;
}

const COLUMNS: { key: SortKey; label: string; className?: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'state', label: 'State', className: 'hide-narrow' },
  { key: 'progress', label: 'Progress', className: 'col-progress' },
  { key: 'rate', label: 'Tasks/s', className: 'num' },
  { key: 'eta', label: 'ETA', className: 'num hide-narrow' },
  { key: 'age', label: 'Age', className: 'num hide-narrow' },
];

export function JobsTable({ jobs, jobRates, now, limit }: JobsTableProps) {
  const [order, setOrder] = useState<SortOrder>(DEFAULT_SORT);
  const rows = useMemo(() => {
    const all = jobs.map((job) => toJobRow(job, currentRate(job, jobRates.get(job.id) ?? [])));
    const sorted = sortJobRows(all, order);
    return limit === undefined ? sorted : sorted.slice(0, limit);
  }, [jobs, jobRates, order, limit]);

  return (
    <div className="table-scroll">
      <table className="table" data-testid="jobs-table">
        <thead>
          <tr>
            {COLUMNS.map((column) => {
              const active = order.key === column.key;
              const sort = active
                ? order.direction === 'asc'
                  ? 'ascending'
                  : 'descending'
                : 'none';
              return (
                <th key={column.key} className={column.className} aria-sort={sort}>
                  <button
                    type="button"
                    className={active ? 'sort sort--active' : 'sort'}
                    onClick={() => setOrder(nextSort(order, column.key))}
                    data-testid={`sort-${column.key}`}
                  >
                    {column.label}
                    {active ? (
                      <span className="sort__arrow" aria-hidden>
                        {order.direction === 'asc' ? '▲' : '▼'}
                      </span>
                    ) : null}
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map(({ job, rate, etaMs }) => (
            <tr key={job.id} data-testid="job-row" data-job-id={job.id}>
              <td className="col-name">
                <a href={jobHref(job.id)} className="job-link">
                  {job.name || <span className="muted">unnamed</span>}
                </a>
                <div className="mono muted small hide-narrow">{job.id}</div>
                {job.unservable ? (
                  <div className="small unservable" data-testid="job-row-unservable">
                    {job.unservable}
                  </div>
                ) : null}
                <div className="show-narrow">
                  <StateBadge state={job.state} paused={job.paused} />
                </div>
              </td>
              <td className="hide-narrow">
                <StateBadge state={job.state} paused={job.paused} />
              </td>
              <td className="col-progress">
                <ProgressBar finished={job.finished} failed={job.failed} total={job.total} />
              </td>
              <td className="num">{formatRate(rate)}</td>
              <td className="num hide-narrow">
                {etaMs === undefined ? (
                  <span className="muted">{etaPlaceholder(job)}</span>
                ) : (
                  formatDuration(etaMs)
                )}
              </td>
              <td className="num hide-narrow" title={new Date(job.created).toLocaleString()}>
                {formatAge(job.created, now)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

import type { JobState } from '@tabgrid/protocol/jobs';

const LABELS: Record<JobState, string> = {
  open: 'open',
  closed: 'running',
  done: 'done',
  cancelled: 'cancelled',
};

const TITLES: Record<JobState, string> = {
  open: 'Accepting tasks; tasks submitted so far are being computed',
  closed: 'No more tasks will be added; computing the rest',
  done: 'Every task has settled',
  cancelled: 'Cancelled: unsettled tasks settled as cancelled errors',
};

interface StateBadgeProps {
  state: JobState;
  /** Why dispatch is paused (JobInfo.paused), if it is: the pill says "paused" and why. */
  paused?: string | null;
  testId?: string;
}

/** A job's state as a coloured pill. `closed` reads as "running": that is what it means to people. */
export function StateBadge({ state, paused, testId }: StateBadgeProps) {
  if (paused) {
    return (
      <span className="badge badge--paused" title={`Paused: ${paused}`} data-testid={testId}>
        paused
      </span>
    );
  }
  return (
    <span className={`badge badge--${state}`} title={TITLES[state]} data-testid={testId}>
      {LABELS[state]}
    </span>
  );
}

import { formatCount, formatCpuTime } from '../format';
import type { Contribution } from '../settings/contribution-ledger';
import type { RuntimeSnapshot } from '../runtime/volunteer-runtime';

/** What this browser gave: this page's rate, and tasks and CPU time today and in total. */
export function ContributionCard({ snapshot }: { snapshot: RuntimeSnapshot }) {
  const c: Contribution = snapshot.contribution ?? {
    day: '',
    todayTasks: snapshot.tasksDone,
    todayCpuMs: 0,
    totalTasks: snapshot.tasksDone,
    totalCpuMs: 0,
  };
  return (
    <section className="card contribution" aria-label="Your contribution">
      <div className="card__eyebrow">Your contribution</div>
      <div className="contribution__grid">
        <Figure label="tasks / s now" testId="tasks-per-second">
          {formatCount(snapshot.tasksPerSecond)}
        </Figure>
        <Figure label="tasks this page" testId="tasks-done">
          {formatCount(snapshot.tasksDone)}
        </Figure>
        <Figure label="tasks today" testId="tasks-today">
          {formatCount(c.todayTasks)}
        </Figure>
        <Figure label="CPU time today" testId="cpu-today">
          {formatCpuTime(c.todayCpuMs)}
        </Figure>
        <Figure label="tasks in total" testId="tasks-total">
          {formatCount(c.totalTasks)}
        </Figure>
        <Figure label="CPU time in total" testId="cpu-total">
          {formatCpuTime(c.totalCpuMs)}
        </Figure>
      </div>
      <p className="muted contribution__note">
        {formatCount(snapshot.tasksFailed)} failed on this page
        {snapshot.sandboxFaults > 0 && (
          <span data-testid="sandbox-faults">
            {' '}
            · {formatCount(snapshot.sandboxFaults)} sandbox faults (jobs that tampered with a
            thread)
          </span>
        )}
        . Counted in this browser only.
        <span hidden data-testid="tasks-failed">
          {snapshot.tasksFailed}
        </span>
      </p>
    </section>
  );
}

function Figure({
  label,
  testId,
  children,
}: {
  label: string;
  testId: string;
  children: React.ReactNode;
}) {
  return (
    <div className="figure">
      <div className="figure__value" data-testid={testId}>
        {children}
      </div>
      <div className="figure__label">{label}</div>
    </div>
  );
}

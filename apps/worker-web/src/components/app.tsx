import { useRuntimeSnapshot } from '../hooks/use-runtime-snapshot';
import type { VolunteerRuntime } from '../runtime/volunteer-runtime';
import { ConnectionBadge } from './connection-badge';
import { connectionLabel } from './connection-label';
import { StatTile } from './stat-tile';
import { ThreadStepper } from './thread-stepper';

const rateFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

export function App({ runtime, cores }: { runtime: VolunteerRuntime; cores: number }) {
  const snapshot = useRuntimeSnapshot(runtime);
  const label = connectionLabel(snapshot);
  const blocked = label === 'reload-required';
  return (
    <main className="page">
      <header className="page__header">
        <h1 className="page__title">Tabgrid</h1>
        <p className="page__tagline">
          This tab lends spare CPU to a compute grid: it runs small JavaScript tasks in a
          locked-down sandbox with no network access and no access to this page. Close the tab to
          stop.
        </p>
      </header>

      <section className="card" aria-label="Connection">
        <ConnectionBadge label={label} status={snapshot.connection} />
      </section>

      <section className="card card--controls" aria-label="Controls">
        <button
          type="button"
          className={`button button--run ${snapshot.paused ? '' : 'button--running'}`}
          data-testid="toggle-run"
          disabled={blocked}
          onClick={() => (snapshot.paused ? runtime.resume() : runtime.pause())}
        >
          {snapshot.paused ? 'Start' : 'Pause'}
        </button>
        <ThreadStepper
          threads={snapshot.threads}
          cores={cores}
          onChange={(n) => runtime.setThreads(n)}
        />
      </section>

      <section className="card stats" aria-label="Statistics">
        <StatTile label="tasks done" testId="tasks-done">
          {snapshot.tasksDone}
        </StatTile>
        <StatTile label="tasks / s" testId="tasks-per-second">
          {rateFormat.format(snapshot.tasksPerSecond)}
        </StatTile>
        <StatTile label="tasks failed" testId="tasks-failed">
          {snapshot.tasksFailed}
        </StatTile>
        <StatTile label="current job" testId="current-job" text>
          {snapshot.currentJobId ?? '—'}
        </StatTile>
        {snapshot.sandboxFaults > 0 && (
          <StatTile
            label="sandbox faults (jobs that tampered with a thread)"
            testId="sandbox-faults"
          >
            {snapshot.sandboxFaults}
          </StatTile>
        )}
      </section>
    </main>
  );
}

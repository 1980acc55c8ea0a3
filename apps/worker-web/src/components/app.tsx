import { useSyncExternalStore } from 'react';
import { useRuntimeSnapshot } from '../hooks/use-runtime-snapshot';
import type { VolunteerRuntime } from '../runtime/volunteer-runtime';
import type { VolunteerControls } from '../settings/volunteer-controls';
import { ConnectionBadge } from './connection-badge';
import { connectionLabel } from './connection-label';
import { ContributionCard } from './contribution-card';
import { ControlsCard } from './controls-card';
import { CurrentJobCard } from './current-job-card';
import { OperatorCard } from './operator-card';
import { SafetyNote } from './safety-note';

interface AppProps {
  runtime: VolunteerRuntime;
  controls: VolunteerControls;
  cores: number;
}

export function App({ runtime, controls, cores }: AppProps) {
  const snapshot = useRuntimeSnapshot(runtime);
  const settings = useSyncExternalStore(controls.subscribe, controls.getSnapshot);
  const label = connectionLabel(snapshot);
  const blocked = label === 'reload-required';
  return (
    <main className="page">
      <header className="page__header">
        <h1 className="page__title">Tabgrid</h1>
        <p className="page__tagline">
          This tab lends spare CPU to a compute grid: it runs small JavaScript tasks in a
          locked-down sandbox. Pause whenever you like, or close the tab to stop.
        </p>
      </header>

      <section className="card" aria-label="Connection">
        <ConnectionBadge label={label} status={snapshot.connection} />
      </section>

      <div className="page__pair">
        <CurrentJobCard snapshot={snapshot} />
        <OperatorCard operator={snapshot.operator} />
      </div>

      <ControlsCard
        snapshot={snapshot}
        settings={settings}
        controls={controls}
        cores={cores}
        blocked={blocked}
      />

      <ContributionCard snapshot={snapshot} />

      <SafetyNote />
    </main>
  );
}

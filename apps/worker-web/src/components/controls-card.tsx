import type { RuntimeSnapshot } from '../runtime/volunteer-runtime';
import type { VolunteerControls } from '../settings/volunteer-controls';
import { CPU_CAPS, type VolunteerSettings } from '../settings/volunteer-settings';
import { ThreadStepper } from './thread-stepper';

interface ControlsCardProps {
  snapshot: RuntimeSnapshot;
  settings: VolunteerSettings;
  controls: VolunteerControls;
  cores: number;
  blocked: boolean;
}

/** Pause / Resume, threads, CPU cap, and when to hold off: each remembered across reloads. */
export function ControlsCard({ snapshot, settings, controls, cores, blocked }: ControlsCardProps) {
  const paused = settings.paused;
  return (
    <section className="card controls" aria-label="Controls">
      <div className="controls__row">
        <button
          type="button"
          className={`button button--run ${paused ? '' : 'button--running'}`}
          data-testid="toggle-run"
          disabled={blocked}
          onClick={() => controls.setPaused(!paused)}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
        <ThreadStepper
          threads={snapshot.threads}
          cores={cores}
          onChange={(n) => controls.setThreads(n)}
        />
      </div>

      <fieldset className="segmented" data-testid="cpu-cap">
        <legend className="control__label">CPU cap per thread</legend>
        {CPU_CAPS.map((cap) => (
          <label
            key={cap}
            className={`segmented__option ${settings.cpuCap === cap ? 'segmented__option--on' : ''}`}
          >
            <input
              type="radio"
              name="cpu-cap"
              value={cap}
              data-testid={`cpu-cap-${cap}`}
              checked={settings.cpuCap === cap}
              onChange={() => controls.setCpuCap(cap)}
            />
            {cap}%
          </label>
        ))}
        <span className="control__hint">
          {settings.cpuCap === 100
            ? 'threads run tasks back to back'
            : `each thread rests after a task, running ${settings.cpuCap}% of the time`}
        </span>
      </fieldset>

      <div className="toggles">
        <label className="toggle">
          <input
            type="checkbox"
            data-testid="only-when-visible"
            checked={settings.onlyWhenVisible}
            onChange={(event) => controls.setOnlyWhenVisible(event.target.checked)}
          />
          <span>
            Only while this tab is visible
            <span className="control__hint">hidden, it hands its tasks back and waits</span>
          </span>
        </label>
        <label className="toggle">
          <input
            type="checkbox"
            data-testid="pause-on-battery"
            checked={settings.pauseOnBattery}
            onChange={(event) => controls.setPauseOnBattery(event.target.checked)}
          />
          <span>
            Pause on battery
            <span className="control__hint">
              {controls.hasBatteryStatus
                ? 'resumes when the device is plugged in'
                : 'this browser does not say whether it is charging: no effect here'}
            </span>
          </span>
        </label>
      </div>
    </section>
  );
}

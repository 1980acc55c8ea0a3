import type { VolunteerRuntime } from '../runtime/volunteer-runtime';
import { writeSettings, type CpuCap, type VolunteerSettings } from './volunteer-settings';

/** The Battery Status API, where the browser has it (Chromium does; Firefox and Safari not). */
interface BatteryLike extends EventTarget {
  charging: boolean;
}
type GetBattery = () => Promise<BatteryLike>;

/** What the controls need of the page (the real `document`, `navigator`, localStorage). */
export interface ControlsEnvironment {
  storage: Pick<Storage, 'setItem'> | undefined;
  document: Pick<Document, 'visibilityState' | 'addEventListener'>;
  getBattery?: GetBattery | undefined;
}

export function browserEnvironment(): ControlsEnvironment {
  let storage: Storage | undefined;
  try {
    storage = window.localStorage;
  } catch {
    storage = undefined; // storage disabled: settings last as long as the page
  }
  const nav = navigator as Navigator & { getBattery?: GetBattery };
  return {
    storage,
    document,
    getBattery: typeof nav.getBattery === 'function' ? () => nav.getBattery!() : undefined,
  };
}

/**
 * The volunteer's controls: applies each choice to the runtime, remembers it in localStorage,
 * and watches what "only while visible" and "pause on battery" depend on. Subscribable, so the
 * page shows what is set.
 */
export class VolunteerControls {
  private current: VolunteerSettings;
  private readonly listeners = new Set<() => void>();
  private battery: BatteryLike | undefined;
  /** False where the browser has no Battery Status API: the page says the option does nothing. */
  private batteryKnown = false;

  constructor(
    private readonly runtime: VolunteerRuntime,
    initial: VolunteerSettings,
    private readonly env: ControlsEnvironment,
  ) {
    this.current = { ...initial };
  }

  /** Applies the stored settings and starts watching visibility and the battery. */
  start(): void {
    this.env.document.addEventListener('visibilitychange', () => this.applyVisibility());
    this.applyVisibility();
    if (this.env.getBattery) {
      this.env
        .getBattery()
        .then((battery) => {
          this.battery = battery;
          this.batteryKnown = true;
          battery.addEventListener('chargingchange', () => this.applyBattery());
          this.applyBattery();
          this.emit();
        })
        .catch(() => undefined); // no battery information: the option cannot apply
    }
  }

  get settings(): VolunteerSettings {
    return this.current;
  }

  /** Whether this browser tells the page if the device is charging. */
  get hasBatteryStatus(): boolean {
    return this.batteryKnown;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): VolunteerSettings => this.current;

  setPaused(paused: boolean): void {
    this.update({ paused });
    if (paused) this.runtime.pause();
    else this.runtime.resume();
  }

  setThreads(threads: number): void {
    this.runtime.setThreads(threads);
    this.update({ threads: this.runtime.getSnapshot().threads });
  }

  setCpuCap(cpuCap: CpuCap): void {
    this.update({ cpuCap });
    this.runtime.setCpuCap(cpuCap);
  }

  setOnlyWhenVisible(onlyWhenVisible: boolean): void {
    this.update({ onlyWhenVisible });
    this.applyVisibility();
  }

  setPauseOnBattery(pauseOnBattery: boolean): void {
    this.update({ pauseOnBattery });
    this.applyBattery();
  }

  private applyVisibility(): void {
    const hidden = this.env.document.visibilityState === 'hidden';
    this.runtime.hold('hidden', this.current.onlyWhenVisible && hidden);
  }

  private applyBattery(): void {
    const onBattery = this.battery !== undefined && !this.battery.charging;
    this.runtime.hold('battery', this.current.pauseOnBattery && onBattery);
  }

  private update(change: Partial<VolunteerSettings>): void {
    this.current = { ...this.current, ...change };
    writeSettings(this.env.storage, this.current);
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

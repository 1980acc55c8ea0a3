import { clampThreads } from '../page-options';

/** The CPU caps a volunteer can pick: the share of each thread's time spent running tasks. */
export const CPU_CAPS = [25, 50, 75, 100] as const;
export type CpuCap = (typeof CPU_CAPS)[number];

/** What the volunteer chose on this page; kept in this origin's localStorage across reloads. */
export interface VolunteerSettings {
  threads: number;
  cpuCap: CpuCap;
  /** Take tasks only while this tab is visible (hidden: hand back and wait). */
  onlyWhenVisible: boolean;
  /** Take tasks only while the device is charging (Battery Status API, where present). */
  pauseOnBattery: boolean;
  /** Paused by the volunteer (Pause / Resume). */
  paused: boolean;
}

export const SETTINGS_KEY = 'tabgrid.volunteer.settings.v1';
/** Larger stored values are someone else's: ignored, not parsed. */
const MAX_STORED_CHARS = 1_000;

export function defaultSettings(cores: number): VolunteerSettings {
  return {
    threads: clampThreads(cores),
    cpuCap: 100,
    onlyWhenVisible: false,
    pauseOnBattery: false,
    paused: false,
  };
}

function isCpuCap(value: unknown): value is CpuCap {
  return CPU_CAPS.includes(value as CpuCap);
}

/**
 * The stored settings, field by field: anything missing, unparseable or out of range falls back
 * to its default (a value stored by another version of the page must never break it).
 */
export function readSettings(storage: Pick<Storage, 'getItem'> | undefined, cores: number) {
  const settings = defaultSettings(cores);
  let raw: string | null = null;
  try {
    raw = storage?.getItem(SETTINGS_KEY) ?? null;
  } catch {
    return settings; // storage disabled (privacy settings): defaults, every time
  }
  if (raw === null || raw.length > MAX_STORED_CHARS) return settings;
  let stored: unknown;
  try {
    stored = JSON.parse(raw);
  } catch {
    return settings;
  }
  if (typeof stored !== 'object' || stored === null) return settings;
  const s = stored as Record<string, unknown>;
  if (typeof s.threads === 'number' && Number.isFinite(s.threads) && s.threads >= 1) {
    settings.threads = clampThreads(s.threads);
  }
  if (isCpuCap(s.cpuCap)) settings.cpuCap = s.cpuCap;
  if (typeof s.onlyWhenVisible === 'boolean') settings.onlyWhenVisible = s.onlyWhenVisible;
  if (typeof s.pauseOnBattery === 'boolean') settings.pauseOnBattery = s.pauseOnBattery;
  if (typeof s.paused === 'boolean') settings.paused = s.paused;
  return settings;
}

export function writeSettings(
  storage: Pick<Storage, 'setItem'> | undefined,
  settings: VolunteerSettings,
): void {
  try {
    storage?.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // Full or disabled storage: the settings hold for this page's life only.
  }
}

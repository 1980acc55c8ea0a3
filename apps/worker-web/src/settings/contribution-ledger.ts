/** What this browser gave the grid: tasks done and CPU time, today and in total (kept locally). */
export interface Contribution {
  /** The local day `today*` counts (YYYY-MM-DD). */
  day: string;
  todayTasks: number;
  todayCpuMs: number;
  totalTasks: number;
  totalCpuMs: number;
}

export const CONTRIBUTION_KEY = 'tabgrid.volunteer.contribution.v1';
const MAX_STORED_CHARS = 1_000;
/** Written at most this often (and when the page goes away), not per task. */
const SAVE_EVERY_MS = 5_000;

/** The local calendar day of `date`, as YYYY-MM-DD. */
export function localDay(date: Date): string {
  const month = String(date.getMonth() + 1).padStart(2, '0');
  const day = String(date.getDate()).padStart(2, '0');
  return `${date.getFullYear()}-${month}-${day}`;
}

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;

/**
 * Counts what this browser contributed, across reloads and tabs of this origin (each tab adds
 * its own; the last writer of a shared day wins a few seconds' worth, which is fine for a
 * volunteer's own tally). Time comes from `now` so tests can cross midnight.
 */
export class ContributionLedger {
  private current: Contribution;
  private savedAt = 0;

  constructor(
    private readonly storage: Pick<Storage, 'getItem' | 'setItem'> | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.current = this.read();
  }

  get value(): Contribution {
    this.rollOver();
    return this.current;
  }

  /** `tasks` more done, that took `cpuMs` of compute. */
  add(tasks: number, cpuMs: number): void {
    this.rollOver();
    const c = this.current;
    c.todayTasks += tasks;
    c.todayCpuMs += cpuMs;
    c.totalTasks += tasks;
    c.totalCpuMs += cpuMs;
    if (this.now().getTime() - this.savedAt >= SAVE_EVERY_MS) this.save();
  }

  save(): void {
    this.savedAt = this.now().getTime();
    try {
      this.storage?.setItem(CONTRIBUTION_KEY, JSON.stringify(this.current));
    } catch {
      // Storage full or disabled: counted for this page's life only.
    }
  }

  private rollOver(): void {
    const today = localDay(this.now());
    if (this.current.day === today) return;
    this.current = { ...this.current, day: today, todayTasks: 0, todayCpuMs: 0 };
  }

  private read(): Contribution {
    const empty = {
      day: localDay(this.now()),
      todayTasks: 0,
      todayCpuMs: 0,
      totalTasks: 0,
      totalCpuMs: 0,
    };
    let stored: unknown;
    try {
      const raw = this.storage?.getItem(CONTRIBUTION_KEY) ?? null;
      if (raw === null || raw.length > MAX_STORED_CHARS) return empty;
      stored = JSON.parse(raw);
    } catch {
      return empty;
    }
    if (typeof stored !== 'object' || stored === null) return empty;
    const s = stored as Record<string, unknown>;
    const sameDay = s.day === empty.day;
    return {
      day: empty.day,
      todayTasks: sameDay ? count(s.todayTasks) : 0,
      todayCpuMs: sameDay ? count(s.todayCpuMs) : 0,
      totalTasks: count(s.totalTasks),
      totalCpuMs: count(s.totalCpuMs),
    };
  }
}

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
 * Counts what this browser contributed, across reloads and across tabs of this origin: each tab
 * keeps only what it added since it last wrote, and adds that to what is stored when it writes
 * (so two tabs, or a reload, never overwrite each other's counts). Time comes from `now` so tests
 * can cross midnight.
 */
export class ContributionLedger {
  /** What was stored when this tab last read or wrote it. */
  private base: Contribution;
  private pendingTasks = 0;
  private pendingCpuMs = 0;
  /** The day the pending counts belong to. */
  private pendingDay: string;
  private savedAt: number;

  constructor(
    private readonly storage: Pick<Storage, 'getItem' | 'setItem'> | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.base = this.read();
    this.pendingDay = this.base.day;
    this.savedAt = this.now().getTime();
  }

  /** What was stored, plus what this tab added since (today's counts as of now). */
  get value(): Contribution {
    const today = localDay(this.now());
    const base =
      this.base.day === today ? this.base : { ...this.base, todayTasks: 0, todayCpuMs: 0 };
    const todayPending = this.pendingDay === today;
    return {
      day: today,
      todayTasks: base.todayTasks + (todayPending ? this.pendingTasks : 0),
      todayCpuMs: base.todayCpuMs + (todayPending ? this.pendingCpuMs : 0),
      totalTasks: base.totalTasks + this.pendingTasks,
      totalCpuMs: base.totalCpuMs + this.pendingCpuMs,
    };
  }

  /** `tasks` more done, that took `cpuMs` of compute. */
  add(tasks: number, cpuMs: number): void {
    const today = localDay(this.now());
    if (today !== this.pendingDay) this.save(); // yesterday's counts go to yesterday
    this.pendingDay = today;
    this.pendingTasks += tasks;
    this.pendingCpuMs += cpuMs;
    if (this.now().getTime() - this.savedAt >= SAVE_EVERY_MS) this.save();
  }

  /** Adds what this tab counted since its last write to what is stored now. */
  save(): void {
    this.savedAt = this.now().getTime();
    const stored = this.read(this.pendingDay);
    stored.todayTasks += this.pendingTasks;
    stored.todayCpuMs += this.pendingCpuMs;
    stored.totalTasks += this.pendingTasks;
    stored.totalCpuMs += this.pendingCpuMs;
    this.pendingTasks = 0;
    this.pendingCpuMs = 0;
    this.base = stored;
    try {
      this.storage?.setItem(CONTRIBUTION_KEY, JSON.stringify(stored));
    } catch {
      // Storage full or disabled: counted in `base` for this page's life only.
    }
  }

  /** What is stored, its today's counts those of `day` (zero when stored for another day). */
  private read(day = localDay(this.now())): Contribution {
    const empty = {
      day,
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

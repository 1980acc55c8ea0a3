import { describe, expect, it } from 'vitest';
import { SETTINGS_KEY, readSettings, writeSettings } from './volunteer-settings';
import { CONTRIBUTION_KEY, ContributionLedger } from './contribution-ledger';

/** A real in-memory Storage-shaped map (the page's localStorage has the same two methods). */
function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
  };
}

describe('volunteer settings', () => {
  it('round-trips every control through storage', () => {
    const storage = memoryStorage();
    const chosen = {
      threads: 3,
      cpuCap: 50 as const,
      onlyWhenVisible: true,
      pauseOnBattery: true,
      paused: true,
    };
    writeSettings(storage, chosen);
    expect(readSettings(storage, 8)).toEqual(chosen);
  });

  it('falls back field by field on missing, foreign or out-of-range values', () => {
    const storage = memoryStorage();
    expect(readSettings(storage, 4)).toMatchObject({ threads: 4, cpuCap: 100, paused: false });
    storage.setItem(SETTINGS_KEY, JSON.stringify({ threads: 1e9, cpuCap: 33, paused: 'yes' }));
    expect(readSettings(storage, 4)).toMatchObject({ threads: 256, cpuCap: 100, paused: false });
    storage.setItem(SETTINGS_KEY, '{not json');
    expect(readSettings(storage, 2).threads).toBe(2);
    storage.setItem(SETTINGS_KEY, JSON.stringify({ threads: 2, pad: 'x'.repeat(2000) }));
    expect(readSettings(storage, 6).threads).toBe(6); // too large to be ours: ignored
    const throwing = {
      getItem: () => {
        throw new Error('SecurityError');
      },
    };
    expect(readSettings(throwing, 3).threads).toBe(3);
  });
});

describe('ContributionLedger', () => {
  it('counts today and in total, keeps them across a reload, and starts a new day at midnight', () => {
    const storage = memoryStorage();
    let now = new Date(2026, 11, 1, 23, 59, 0);
    const ledger = new ContributionLedger(storage, () => now);
    ledger.add(1_000, 2_500);
    ledger.add(500, 500);
    ledger.save();
    const reloaded = new ContributionLedger(storage, () => now);
    expect(reloaded.value).toMatchObject({
      day: '2026-12-01',
      todayTasks: 1_500,
      todayCpuMs: 3_000,
      totalTasks: 1_500,
    });
    now = new Date(2026, 11, 2, 0, 0, 1);
    reloaded.add(10, 20);
    expect(reloaded.value).toMatchObject({
      day: '2026-12-02',
      todayTasks: 10,
      todayCpuMs: 20,
      totalTasks: 1_510,
      totalCpuMs: 3_020,
    });
    reloaded.save(); // as the page does when it goes away
    // A stored yesterday's tally reads as zero today, its totals kept.
    const nextDay = new ContributionLedger(storage, () => new Date(2026, 11, 3, 9));
    expect(nextDay.value).toMatchObject({ todayTasks: 0, totalTasks: 1_510 });
    // Two tabs (or a reload racing a write) add up instead of overwriting each other.
    const a = new ContributionLedger(storage, () => new Date(2026, 11, 3, 10));
    const b = new ContributionLedger(storage, () => new Date(2026, 11, 3, 10));
    a.add(5, 50);
    b.add(7, 70);
    a.save();
    b.save();
    expect(new ContributionLedger(storage, () => new Date(2026, 11, 3, 11)).value).toMatchObject({
      todayTasks: 12,
      todayCpuMs: 120,
      totalTasks: 1_522,
    });
    storage.setItem(CONTRIBUTION_KEY, JSON.stringify({ totalTasks: -5, totalCpuMs: 'x' }));
    expect(new ContributionLedger(storage).value).toMatchObject({ totalTasks: 0, totalCpuMs: 0 });
  });
});

import type { HoldReason } from './runtime-snapshot';

/** What a change of holds asks the runtime to do. */
export type HoldChange = 'stop' | 'stop-running' | 'start' | undefined;

/**
 * Why the tab holds off (the volunteer's pause, hidden with "only while visible", on battery
 * with "pause on battery"): it runs while no reason holds it. A volunteer's pause lets running
 * tasks finish; the others hand those back too, so nothing waits on a tab that cannot run soon.
 */
export class TabHolds {
  private readonly reasons = new Set<HoldReason>();

  constructor(paused: boolean) {
    if (paused) this.reasons.add('user');
  }

  get paused(): boolean {
    return this.reasons.size > 0;
  }

  get list(): HoldReason[] {
    return [...this.reasons];
  }

  /** Sets or lifts `reason`; says whether the tab must stop or start taking tasks. */
  change(reason: HoldReason, on: boolean): HoldChange {
    const was = this.paused;
    if (on) this.reasons.add(reason);
    else this.reasons.delete(reason);
    if (!was && this.paused) return reason === 'user' ? 'stop' : 'stop-running';
    if (was && !this.paused) return 'start';
    return undefined;
  }
}

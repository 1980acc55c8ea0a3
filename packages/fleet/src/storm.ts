import { Rng, checkRange, type Range } from './random.js';
import type { DropMode } from './connection-states.js';
import type { SimWorker } from './sim-worker.js';

/**
 * A reconnect storm: for `durationMs`, each targeted worker drops its connection at random
 * moments (a Poisson process of `dropRate` drops per second while connected) and comes back
 * `reconnectAfterMs` later.
 *
 * @example
 * // For a minute, a tenth of the fleet drops every second, back within 50–500 ms:
 * fleet.storm({ durationMs: 60_000, dropRate: 0.1, reconnectAfterMs: [50, 500] });
 */
export interface StormOptions {
  durationMs: number;
  /** Drops per connected worker per second (0.1: each drops about every 10 s). */
  dropRate: number;
  /** How long a dropped worker stays away (ms); default `[50, 500]`. */
  reconnectAfterMs?: Range;
  /** How workers drop; a list picks one at random per drop. Default `'terminate'` (abrupt). */
  mode?: DropMode | readonly DropMode[];
  /** The workers it hits; default the whole fleet. */
  workers?: readonly SimWorker[];
  /** Seed of the storm's random choices (default 1). */
  seed?: number;
}

/** What a storm did. */
export interface StormReport {
  /** Connections it dropped. */
  drops: number;
  /** How long it raged (ms). */
  durationMs: number;
}

/**
 * A storm under way: one timer per targeted worker, none per task. Workers it dropped come
 * back on their own, even after the storm has ended.
 */
export class Storm {
  /** Resolves when the storm ends (its duration elapsed, or `stop()`). */
  readonly done: Promise<StormReport>;
  /** Connections dropped so far. */
  drops = 0;
  private readonly timers = new Map<SimWorker, NodeJS.Timeout>();
  private readonly rng: Rng;
  private readonly modes: readonly DropMode[];
  private readonly reconnectAfterMs: Range;
  private readonly started = Date.now();
  private readonly endTimer: NodeJS.Timeout;
  private finish!: (report: StormReport) => void;
  private ended = false;

  constructor(
    workers: readonly SimWorker[],
    private readonly options: StormOptions,
  ) {
    if (!(options.durationMs >= 0)) {
      throw new RangeError(`durationMs must be ≥ 0, got ${options.durationMs}.`);
    }
    if (!(options.dropRate >= 0) || !Number.isFinite(options.dropRate)) {
      throw new RangeError(`dropRate must be a number ≥ 0 (per second), got ${options.dropRate}.`);
    }
    this.reconnectAfterMs = options.reconnectAfterMs ?? [50, 500];
    checkRange(this.reconnectAfterMs, 'reconnectAfterMs');
    const mode = options.mode ?? 'terminate';
    this.modes = typeof mode === 'string' ? [mode] : mode;
    if (this.modes.length === 0) throw new RangeError('mode must name at least one DropMode.');
    this.rng = new Rng(options.seed ?? 1);
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.endTimer = setTimeout(() => this.stop(), options.durationMs);
    if (options.dropRate > 0) for (const worker of workers) this.arm(worker);
  }

  /** Ends the storm now (workers already dropped still come back). */
  stop(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.endTimer);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.finish({ drops: this.drops, durationMs: Date.now() - this.started });
  }

  private arm(worker: SimWorker): void {
    const wait = this.rng.exponentialMs(this.options.dropRate);
    if (Date.now() + wait >= this.started + this.options.durationMs) {
      this.timers.delete(worker);
      return;
    }
    this.timers.set(
      worker,
      setTimeout(() => this.strike(worker), wait),
    );
  }

  private strike(worker: SimWorker): void {
    if (this.ended) return;
    // Only connected workers drop; one still away just draws its next moment.
    if (worker.state === 'ready') {
      const mode = this.modes[Math.floor(this.rng.next() * this.modes.length)] ?? 'terminate';
      worker.drop(mode, this.reconnectAfterMs);
      this.drops++;
    }
    this.arm(worker);
  }
}

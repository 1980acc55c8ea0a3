import type { Behavior } from './behavior.js';
import { ProgramCache } from './program-cache.js';
import { SimWorker, type SimWorkerEvent } from './sim-worker.js';
import { emptyStats, type SimWorkerStats } from './stats.js';
import { Storm, type StormOptions } from './storm.js';

export interface FleetOptions {
  /** The server's worker socket, e.g. `ws://127.0.0.1:8080/ws/worker` (`workerSocketUrl()` makes one). */
  url: string;
  /** How many workers (each its own WebSocket). */
  workers: number;
  /** Threads each worker announces and runs tasks on (default 1). */
  threads?: number;
  /** Slots each worker grants the server (default 64). */
  credit?: number;
  /** Behavior of every worker; change one later with `fleet.workers[i].behave()`. */
  behavior?: Behavior;
  /** Seed of all random choices (default 1): the same seed replays the same choices. */
  seed?: number;
  /**
   * Compile each job's program once for the whole fleet (default true). Its top-level state is
   * then shared by all workers; `false` gives each worker its own copy.
   */
  sharePrograms?: boolean;
  /** Connections opened at once by `start()` (default 100). */
  connectConcurrency?: number;
  /** Decode every outgoing frame with the protocol before sending it (tests; costs time). */
  validateFrames?: boolean;
  /** Each worker's monitor `sample` period in ms (default 5,000; 0: none, for scale runs). */
  sampleMs?: number;
  /** Reports of every worker: welcomed, closed (with the tasks it held). */
  onEvent?: (event: SimWorkerEvent) => void;
  /**
   * Source address of worker `index`'s connections, to look like distinct hosts to the server
   * (which sends replicas of a task to distinct addresses): on Linux every 127.x.y.z is
   * loopback, e.g. `(i) => \`127.0.0.${i + 2}\``. Default: the system's choice.
   */
  localAddress?: (index: number) => string | undefined;
}

/** Totals over the fleet (see {@link SimWorkerStats} for each counter). */
export interface FleetStats extends SimWorkerStats {
  workers: number;
  /** Workers welcomed and connected now. */
  connected: number;
  /** Tasks held unanswered now, fleet-wide. */
  held: number;
  /** Connections after each worker's first. */
  reconnects: number;
}

/**
 * N synthetic workers in this process, each with a real WebSocket to the server, speaking the
 * real worker protocol and running job programs with `new Function`. **Trusted code only: this
 * is not a sandbox** — use it for your own jobs, tests and benchmarks.
 *
 * @example
 * import { Fleet, workerSocketUrl } from '@tabgrid/fleet';
 *
 * const fleet = new Fleet({ url: workerSocketUrl('http://127.0.0.1:8080'), workers: 200 });
 * await fleet.start();                                   // every worker welcomed
 * fleet.workers[3]!.behave({ wrongResults: true });      // one liar
 * const storm = fleet.storm({ durationMs: 60_000, dropRate: 0.1, reconnectAfterMs: [50, 500] });
 * await storm.done;
 * console.log(fleet.stats());                            // { connected, tasksDone, reconnects, … }
 * await fleet.stop();
 */
export class Fleet {
  /** The workers, by index. */
  readonly workers: SimWorker[] = [];
  /** Where the fleet's programs are compiled. */
  readonly programs: ProgramCache;
  private readonly storms = new Set<Storm>();

  constructor(private readonly options: FleetOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 0) {
      throw new RangeError(`workers must be an integer ≥ 0, got ${options.workers}.`);
    }
    this.programs = new ProgramCache();
    this.add(options.workers);
  }

  /**
   * Adds `count` workers (not started), with the fleet's settings unless `overrides` says
   * otherwise.
   *
   * @example
   * const [slow] = fleet.add(1, { behavior: { delayMs: 100 } });
   * await slow!.start();
   */
  add(
    count: number,
    overrides: {
      threads?: number;
      credit?: number;
      behavior?: Behavior;
      localAddress?: string;
    } = {},
  ): SimWorker[] {
    const added: SimWorker[] = [];
    for (let i = 0; i < count; i++) {
      const index = this.workers.length;
      const localAddress = overrides.localAddress ?? this.options.localAddress?.(index);
      const worker = new SimWorker({
        ...(localAddress ? { localAddress } : {}),
        url: this.options.url,
        index,
        threads: overrides.threads ?? this.options.threads ?? 1,
        credit: overrides.credit ?? this.options.credit ?? 64,
        behavior: { ...this.options.behavior, ...overrides.behavior },
        seed: this.options.seed ?? 1,
        programs: this.options.sharePrograms === false ? new ProgramCache() : this.programs,
        validateFrames: this.options.validateFrames ?? false,
        ...(this.options.sampleMs !== undefined ? { sampleMs: this.options.sampleMs } : {}),
        ...(this.options.onEvent ? { onEvent: this.options.onEvent } : {}),
      });
      this.workers.push(worker);
      added.push(worker);
    }
    return added;
  }

  /**
   * Connects every worker, at most `connectConcurrency` at a time, and resolves once each has
   * been welcomed. Rejects after `timeoutMs` (default 30 s) saying how many made it.
   */
  async start({ timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<void> {
    const pending = [...this.workers];
    const concurrency = Math.max(1, this.options.connectConcurrency ?? 100);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const ready = this.workers.filter((w) => w.state === 'ready').length;
        reject(
          new Error(
            `Only ${ready} of ${this.workers.length} simulated workers were welcomed by ${this.options.url} within ${timeoutMs} ms. Is the server running?`,
          ),
        );
      }, timeoutMs);
    });
    const lane = async (): Promise<void> => {
      for (let worker = pending.shift(); worker; worker = pending.shift()) await worker.start();
    };
    try {
      await Promise.race([
        Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, lane)),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends every storm and closes every worker cleanly; resolves once all sockets are closed. */
  async stop(): Promise<void> {
    for (const storm of this.storms) storm.stop();
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }

  /**
   * Applies a behavior patch to every worker.
   *
   * @example
   * fleet.behave({ delayMs: [1, 5] });
   */
  behave(patch: Behavior): this {
    for (const worker of this.workers) worker.behave(patch);
    return this;
  }

  /**
   * Starts a reconnect storm over the fleet (or `options.workers`); `await storm.done` for its
   * end. See {@link StormOptions}.
   *
   * @example
   * const storm = fleet.storm({ durationMs: 10_000, dropRate: 0.2, mode: ['terminate', 'handBack'] });
   * const { drops } = await storm.done;
   */
  storm(options: StormOptions): Storm {
    const storm = new Storm(options.workers ?? this.workers, {
      ...options,
      seed: options.seed ?? this.options.seed ?? 1,
    });
    this.storms.add(storm);
    void storm.done.then(() => this.storms.delete(storm));
    return storm;
  }

  /** Totals over all workers, computed now. */
  stats(): FleetStats {
    const totals: FleetStats = {
      ...emptyStats(),
      workers: this.workers.length,
      connected: 0,
      held: 0,
      reconnects: 0,
    };
    const keys = Object.keys(emptyStats()) as (keyof SimWorkerStats)[];
    for (const worker of this.workers) {
      for (const key of keys) totals[key] += worker.stats[key];
      if (worker.state === 'ready') totals.connected++;
      totals.held += worker.held;
      totals.reconnects += Math.max(0, worker.stats.connects - 1);
    }
    return totals;
  }
}

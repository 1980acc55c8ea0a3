/**
 * Watches the server process from outside while it is attacked: its resident memory (VmRSS
 * from /proc, every ~100 ms) and `/healthz` (every ~200 ms, each answer due within a deadline).
 * Every bad reading is kept with the attack families running at that moment, so a failure names
 * its cause. A watchdog kills the server once its RSS passes a hard ceiling, so that one
 * amplification attack cannot take the whole machine down with it.
 */
import { readFileSync } from 'node:fs';

export interface BadReading {
  /** ms since monitoring started. */
  atMs: number;
  what: 'slow-healthz' | 'failed-healthz' | 'rss';
  /** The latency (ms) or the RSS (MB). */
  value: number;
  /** The attack families running then. */
  during: string[];
  detail?: string;
}

export interface VitalReport {
  maxRssMb: number;
  /** Families running when the RSS peaked. */
  maxRssDuring: string[];
  worstHealthzMs: number;
  worstHealthzDuring: string[];
  probes: number;
  rssSamples: number;
  /** Each reading over the limits, in order (at most 200 kept). */
  bad: BadReading[];
  /** True when the watchdog killed the server for its memory. */
  killedByWatchdog: boolean;
}

export interface VitalSignsOptions {
  pid: number;
  healthzUrl: string;
  /** A `/healthz` answer later than this is bad (ms, default 1000). */
  healthzDeadlineMs?: number;
  /** RSS above this is bad (MB, default 512). */
  rssLimitMb?: number;
  /** RSS above this gets the server SIGKILLed (MB, default 1536). */
  killAboveMb?: number;
  rssEveryMs?: number;
  healthzEveryMs?: number;
  /** The attack families running now (for attributing bad readings). */
  running: () => string[];
}

const KEPT_BAD = 200;

/** VmRSS of `pid` in MB, or undefined once the process is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export class VitalSigns {
  private readonly started = Date.now();
  private readonly report: VitalReport = {
    maxRssMb: 0,
    maxRssDuring: [],
    worstHealthzMs: 0,
    worstHealthzDuring: [],
    probes: 0,
    rssSamples: 0,
    bad: [],
    killedByWatchdog: false,
  };
  private readonly rssTimer: NodeJS.Timeout;
  private probing = true;
  private readonly prober: Promise<void>;

  constructor(private readonly options: VitalSignsOptions) {
    this.rssTimer = setInterval(() => this.sampleRss(), options.rssEveryMs ?? 100);
    this.prober = this.probeLoop();
  }

  private note(reading: Omit<BadReading, 'atMs' | 'during'>): void {
    if (this.report.bad.length >= KEPT_BAD) return;
    this.report.bad.push({
      atMs: Date.now() - this.started,
      during: this.options.running(),
      ...reading,
    });
  }

  private sampleRss(): void {
    const mb = rssMb(this.options.pid);
    if (mb === undefined) return;
    this.report.rssSamples++;
    if (mb > this.report.maxRssMb) {
      this.report.maxRssMb = mb;
      this.report.maxRssDuring = this.options.running();
    }
    const limit = this.options.rssLimitMb ?? 512;
    if (mb > limit) this.note({ what: 'rss', value: Math.round(mb) });
    if (mb > (this.options.killAboveMb ?? 1536) && !this.report.killedByWatchdog) {
      this.report.killedByWatchdog = true;
      this.note({ what: 'rss', value: Math.round(mb), detail: 'killed by the watchdog' });
      try {
        process.kill(this.options.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private async probeLoop(): Promise<void> {
    const deadline = this.options.healthzDeadlineMs ?? 1000;
    const every = this.options.healthzEveryMs ?? 200;
    while (this.probing) {
      const t0 = performance.now();
      const during = this.options.running();
      // The probe waits past the deadline (up to 30 s) so the worst latency is measured, not capped.
      try {
        const response = await fetch(this.options.healthzUrl, {
          signal: AbortSignal.timeout(30_000),
        });
        await response.arrayBuffer();
        const ms = performance.now() - t0;
        this.report.probes++;
        if (ms > this.report.worstHealthzMs) {
          this.report.worstHealthzMs = ms;
          this.report.worstHealthzDuring = during;
        }
        if (!response.ok)
          this.note({ what: 'failed-healthz', value: ms, detail: `HTTP ${response.status}` });
        else if (ms > deadline) this.note({ what: 'slow-healthz', value: Math.round(ms) });
      } catch (err) {
        const ms = performance.now() - t0;
        this.report.probes++;
        this.report.worstHealthzMs = Math.max(this.report.worstHealthzMs, ms);
        this.note({ what: 'failed-healthz', value: Math.round(ms), detail: String(err) });
        if (rssMb(this.options.pid) === undefined) break; // the server is gone
      }
      const wait = every - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Stops watching and returns what was seen. */
  async stop(): Promise<VitalReport> {
    clearInterval(this.rssTimer);
    this.probing = false;
    await this.prober;
    return this.report;
  }

  /** What was seen so far. */
  snapshot(): Readonly<VitalReport> {
    return this.report;
  }
}

/**
 * The worker monitor: what each tab says it spent (`sample` frames, every few seconds), kept
 * as a bounded window per worker (a ring of {@link SAMPLE_RING} samples, ≈ 1 h at 5 s) and as
 * usage per job (CPU time, peak heap), which goes into the job's record.
 *
 * A sample is a claim by an untrusted page, so nothing in it is taken at its word: more threads
 * than the hello announced is a forgery; samples closer than {@link MIN_SAMPLE_GAP_MS} are
 * dropped; the interval is capped by the time the server saw pass since the last one, every
 * busy time by that interval, the jobs' busy times together by the tab's capacity, tasks by
 * what the connection answered or holds, and only jobs the connection was given count.
 */
import type { WorkerSample } from '@tabgrid/protocol/task-reports';
import type { WorkerMonitor as WorkerMonitorView } from '@tabgrid/protocol/feeds';
import type { Caller } from '../auth/caller.js';
import type { Clock } from '../core/clock.js';

/** Samples kept per worker: an hour at the page's 5 s. */
export const SAMPLE_RING = 720;
/** Samples closer together than this on one connection are dropped (the page sends every 5 s). */
export const MIN_SAMPLE_GAP_MS = 2_000;
/** Jobs whose usage is kept per worker (the oldest goes first). */
const MAX_JOBS_PER_WORKER = 256;

/** A `sample` frame as decoded (bounded by its schema). */
export type SampleFrame = Omit<WorkerSample, 'type'>;

/** A worker, as far as the monitor reads it (the core's worker session is one). */
export interface MonitorWorker {
  readonly id: string;
  readonly userAgent: string;
  /** Threads announced in its hello. */
  readonly threads: number;
  readonly connectedAt: number;
  /** Tasks it answered that it held. */
  readonly tasksDone: number;
  readonly inFlight: number;
  hasProgram(jobId: string): boolean;
}

/** A job, as far as the monitor needs it (the core's job runtime is one). */
export interface MonitorJob {
  readonly record: { readonly owner: string };
  readonly counters: {
    /** A sample charged `cpuMs` to the job, and saw `heapBytes` while it ran (into its record). */
    noteUsage(cpuMs: number, heapBytes: number | null): void;
  };
}

export interface MonitorSource {
  workers: { all(): IterableIterator<MonitorWorker> };
  jobs: { findJob(jobId: string): MonitorJob | undefined };
}

/** One sample, as `workers()` lists it. */
export type MonitorSample = WorkerMonitorView['samples'][number];

export type { WorkerMonitorView };

/** What `sample` did with a frame: the dispatcher counts a forgery against the connection. */
export type SampleVerdict = 'accepted' | 'dropped' | 'forged';

/** Busy time of one job in one sample. */
interface JobBusy {
  jobId: string;
  busyMs: number;
}

/** One job's usage on one worker. */
interface JobUsage {
  cpuMs: number;
  peakHeapBytes: number | null;
}

/** A worker's window of samples, in typed arrays (no object per sample but its jobs list). */
class SampleRing {
  readonly at = new Float64Array(SAMPLE_RING);
  /** Busy ms of all threads (capped), and the capacity they are a share of (interval × threads). */
  readonly busy = new Float64Array(SAMPLE_RING);
  readonly capacity = new Float64Array(SAMPLE_RING);
  readonly tasksPerSecond = new Float64Array(SAMPLE_RING);
  /** NaN: the browser does not expose it. */
  readonly heap = new Float64Array(SAMPLE_RING);
  readonly jobs: (readonly JobBusy[])[] = new Array<readonly JobBusy[]>(SAMPLE_RING);
  /** Slot of the next sample; samples held. */
  private next = 0;
  private held = 0;

  get length(): number {
    return this.held;
  }

  add(at: number, busy: number, capacity: number, tps: number, heap: number, jobs: JobBusy[]) {
    const i = this.next;
    this.at[i] = at;
    this.busy[i] = busy;
    this.capacity[i] = capacity;
    this.tasksPerSecond[i] = tps;
    this.heap[i] = heap;
    this.jobs[i] = jobs;
    this.next = (i + 1) % SAMPLE_RING;
    if (this.held < SAMPLE_RING) this.held++;
  }

  /** Slot of the `n`-th oldest sample held. */
  slot(n: number): number {
    return (this.next - this.held + n + SAMPLE_RING) % SAMPLE_RING;
  }
}

/** What the monitor keeps per connection. */
interface WorkerTrack {
  ring: SampleRing;
  /** When its last sample was accepted (epoch ms), or undefined before the first. */
  lastAt: number | undefined;
  /** Its tasks answered at that sample (caps the tasks the next one may claim). */
  doneAtLast: number;
  jobs: Map<string, JobUsage>;
}

export class WorkerMonitor {
  private readonly tracks = new WeakMap<object, WorkerTrack>();
  private _dropped = 0;

  constructor(
    private readonly source: MonitorSource,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  /** Samples dropped since start (too frequent, or no time to measure against). */
  get dropped(): number {
    return this._dropped;
  }

  /** Applies one `sample` frame of `worker`. */
  sample(worker: MonitorWorker, frame: SampleFrame): SampleVerdict {
    const threads = worker.threads;
    if (frame.busyMs.length > threads) return 'forged'; // more threads than its hello announced
    const now = this.clock.now();
    let track = this.tracks.get(worker);
    const since = track?.lastAt ?? worker.connectedAt;
    if (track?.lastAt !== undefined && now - since < MIN_SAMPLE_GAP_MS) {
      this._dropped++;
      return 'dropped';
    }
    // The page's interval, but never more time than the server saw pass.
    const interval = Math.min(frame.intervalMs, now - since);
    if (!(interval > 0)) {
      this._dropped++;
      return 'dropped';
    }
    if (!track) {
      track = { ring: new SampleRing(), lastAt: undefined, doneAtLast: 0, jobs: new Map() };
      this.tracks.set(worker, track);
    }
    const capacity = interval * threads;
    let busy = 0;
    for (const ms of frame.busyMs) busy += Math.min(ms, interval);
    // No more tasks than it answered since the last sample, plus what it holds.
    const tasks = Math.min(frame.tasks, worker.tasksDone - track.doneAtLast + worker.inFlight);
    const heap = frame.heapUsed;
    const jobs = this.chargeJobs(worker, track, frame.jobs, capacity, heap);
    track.ring.add(now, busy, capacity, (tasks * 1000) / interval, heap ?? NaN, jobs);
    track.lastAt = now;
    track.doneAtLast = worker.tasksDone;
    return 'accepted';
  }

  /**
   * Charges each job of the sample that this connection was given its busy time, all of them
   * together at most the tab's capacity; returns what was charged.
   */
  private chargeJobs(
    worker: MonitorWorker,
    track: WorkerTrack,
    claimed: SampleFrame['jobs'],
    capacity: number,
    heap: number | null,
  ): JobBusy[] {
    const charged: JobBusy[] = [];
    let left = capacity;
    for (const { jobId, busyMs } of claimed) {
      if (!worker.hasProgram(jobId)) continue; // not given to it, or retired meanwhile
      const ms = Math.min(busyMs, left);
      left -= ms;
      charged.push({ jobId, busyMs: ms });
      let usage = track.jobs.get(jobId);
      if (!usage) {
        if (track.jobs.size >= MAX_JOBS_PER_WORKER) {
          const oldest = track.jobs.keys().next().value;
          if (oldest !== undefined) track.jobs.delete(oldest);
        }
        track.jobs.set(jobId, (usage = { cpuMs: 0, peakHeapBytes: null }));
      }
      usage.cpuMs += ms;
      if (heap !== null && (usage.peakHeapBytes === null || heap > usage.peakHeapBytes)) {
        usage.peakHeapBytes = heap;
      }
      this.source.jobs.findJob(jobId)?.counters.noteUsage(ms, heap);
    }
    return charged;
  }

  /** The latest sample of `worker` (the dashboard's live figure), if it sent one. */
  latest(worker: object): { cpu: number; heapUsed: number | null } | null {
    const ring = this.tracks.get(worker)?.ring;
    if (!ring || ring.length === 0) return null;
    const i = ring.slot(ring.length - 1);
    const heap = ring.heap[i]!;
    return {
      cpu: share(ring.busy[i]!, ring.capacity[i]!),
      heapUsed: Number.isNaN(heap) ? null : heap,
    };
  }

  /**
   * The connected workers with their windows, as `caller` may see them. A caller that sees all
   * gets every worker. Anyone else gets only workers that ran its jobs, with only those jobs,
   * CPU counted from those jobs' busy time, tasks/s scaled by that share, and no heap (the
   * heap is the whole tab's: other tenants' work is in it).
   */
  workers(caller: Pick<Caller, 'owner' | 'seesAll'>): WorkerMonitorView[] {
    const out: WorkerMonitorView[] = [];
    const owners = new Map<string, boolean>(); // jobId → the caller's
    const mine = (jobId: string): boolean => {
      let yes = owners.get(jobId);
      if (yes === undefined) {
        yes = this.source.jobs.findJob(jobId)?.record.owner === caller.owner;
        owners.set(jobId, yes);
      }
      return yes;
    };
    for (const worker of this.source.workers.all()) {
      const track = this.tracks.get(worker);
      const jobs: WorkerMonitorView['jobs'] = [];
      for (const [jobId, usage] of track?.jobs ?? []) {
        if (caller.seesAll ? this.source.jobs.findJob(jobId) !== undefined : mine(jobId)) {
          jobs.push({ jobId, cpuMs: Math.round(usage.cpuMs), peakHeapBytes: usage.peakHeapBytes });
        }
      }
      if (!caller.seesAll && jobs.length === 0) continue;
      out.push({
        workerId: worker.id,
        userAgent: worker.userAgent,
        threads: worker.threads,
        connectedAt: new Date(worker.connectedAt).toISOString(),
        samples: track ? samplesOf(track.ring, caller.seesAll ? undefined : mine) : [],
        jobs,
      });
    }
    return out;
  }
}

/** A ring's samples, oldest first; with `mine`, counted from the caller's jobs only. */
function samplesOf(ring: SampleRing, mine?: (jobId: string) => boolean): MonitorSample[] {
  const out = new Array<MonitorSample>(ring.length);
  for (let n = 0; n < ring.length; n++) {
    const i = ring.slot(n);
    const at = ring.at[i]!;
    const busy = ring.busy[i]!;
    const capacity = ring.capacity[i]!;
    const tps = ring.tasksPerSecond[i]!;
    if (!mine) {
      const heap = ring.heap[i]!;
      out[n] = {
        at,
        cpu: share(busy, capacity),
        tasksPerSecond: tps,
        heapUsed: Number.isNaN(heap) ? null : heap,
      };
      continue;
    }
    let own = 0;
    for (const job of ring.jobs[i] ?? []) if (mine(job.jobId)) own += job.busyMs;
    out[n] = {
      at,
      cpu: share(own, capacity),
      tasksPerSecond: busy > 0 ? (tps * Math.min(own, busy)) / busy : 0,
      heapUsed: null,
    };
  }
  return out;
}

/** `part / whole`, clamped to 0..1 (0 for an empty whole). */
function share(part: number, whole: number): number {
  return whole > 0 ? Math.min(1, Math.max(0, part / whole)) : 0;
}

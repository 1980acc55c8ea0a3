/**
 * `GET /metrics`: Prometheus text format, from prom-client. Everything is read when scraped from
 * counts the server keeps anyway (the grid's facade, the settle path's counters, the store's
 * commit times): nothing here adds work per task. Public like /healthz (counts only, no job
 * names or ids); keep it from the internet at the proxy if that matters (README).
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Grid, GridMetrics } from '../core/grid.js';
import { LATENCY_BOUNDS_MS, type LatencyBuckets } from '../latency-buckets.js';

export const METRICS_PATH = '/metrics';

/** What the endpoint reads. */
export interface MetricsSource {
  grid: Pick<Grid, 'metrics'>;
  /** The store's commit times, when it measures them. */
  commitTimes?: LatencyBuckets;
}

/** Our histograms, written beside prom-client's families (their counts live in LatencyBuckets). */
const HISTOGRAMS = [
  {
    name: 'tabgrid_task_dispatch_latency_seconds',
    help: 'Time from a task’s submission to the dispatch of the attempt that settled it.',
    read: (m: GridMetrics) => m.settled.dispatchLatency,
  },
  {
    name: 'tabgrid_task_settle_latency_seconds',
    help: 'Time from the dispatch of a task’s settling attempt to its settle (run time, transfer and queueing on the worker).',
    read: (m: GridMetrics) => m.settled.settleLatency,
  },
] as const;
const COMMIT_HISTOGRAM = {
  name: 'tabgrid_store_commit_seconds',
  help: 'Time each group commit of the job store took (one transaction of many writes).',
};

/** A LatencyBuckets as a Prometheus histogram family (cumulative buckets, seconds). */
export function histogramText(name: string, help: string, buckets: LatencyBuckets): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  let cumulative = 0;
  LATENCY_BOUNDS_MS.forEach((bound, i) => {
    cumulative += buckets.counts[i]!;
    lines.push(`${name}_bucket{le="${bound / 1000}"} ${cumulative}`);
  });
  cumulative += buckets.counts[LATENCY_BOUNDS_MS.length]!;
  lines.push(`${name}_bucket{le="+Inf"} ${cumulative}`);
  lines.push(`${name}_sum ${buckets.sumMs / 1000}`);
  lines.push(`${name}_count ${buckets.count}`);
  return lines.join('\n');
}

/** A counter whose value is read from `value()` at each scrape (it only ever grows). */
function readCounter(
  registry: Registry,
  name: string,
  help: string,
  value: () => number,
): Counter<string> {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(value());
    },
  });
}

function readGauge(registry: Registry, name: string, help: string, value: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(value());
    },
  });
}

/** The registry of one app: prom-client's process metrics (event-loop delay, memory, GC) and ours. */
export function createMetrics(source: MetricsSource): {
  registry: Registry;
  text(): Promise<string>;
} {
  const registry = new Registry();
  // Process metrics start with the first scrape: an app nobody scrapes (a test's) runs no
  // event-loop monitor or GC observer of prom-client's.
  let processMetrics = false;
  // One snapshot per scrape, shared by every family below.
  let snapshot: GridMetrics | undefined;
  const m = () => (snapshot ??= source.grid.metrics());

  readGauge(registry, 'tabgrid_workers', 'Connected workers (tabs).', () => m().workers);
  readGauge(
    registry,
    'tabgrid_worker_threads',
    'Threads the connected workers run.',
    () => m().threads,
  );
  readGauge(
    registry,
    'tabgrid_tasks_queued',
    'Tasks of runnable jobs waiting for a worker.',
    () => m().queued,
  );
  readGauge(
    registry,
    'tabgrid_tasks_in_flight',
    'Tasks leased to a worker now.',
    () => m().inFlight,
  );
  readGauge(
    registry,
    'tabgrid_jobs_runnable',
    'Jobs open or closed and not finished.',
    () => m().jobs.runnable,
  );
  readGauge(
    registry,
    'tabgrid_jobs',
    'Jobs the server holds, finished ones included.',
    () => m().jobs.total,
  );
  readCounter(
    registry,
    'tabgrid_worker_connections_total',
    'Worker connections accepted.',
    () => m().workersJoined,
  );
  readCounter(
    registry,
    'tabgrid_worker_disconnections_total',
    'Worker connections ended.',
    () => m().workersLeft,
  );
  new Counter({
    name: 'tabgrid_tasks_settled_total',
    help: 'Tasks settled, by outcome: result, or the error type (program, timeout, lost, validation, cancelled, setup).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      const settled = m().settled;
      this.inc({ outcome: 'result' }, settled.results);
      for (const [type, count] of settled.errors) this.inc({ outcome: type }, count);
    },
  });
  readCounter(
    registry,
    'tabgrid_duplicate_outcomes_total',
    'Outcomes for tasks already settled (execution is at-least-once), dropped.',
    () => m().delivery.duplicates,
  );
  readCounter(
    registry,
    'tabgrid_dropped_outcomes_total',
    'Outcomes for jobs cancelled, deleted or finished meanwhile.',
    () => m().delivery.dropped,
  );
  readCounter(
    registry,
    'tabgrid_forged_outcomes_total',
    'Outcomes and hand-backs for tasks not leased to the connection that sent them.',
    () => m().delivery.forged,
  );
  readCounter(
    registry,
    'tabgrid_sandbox_faults_total',
    'Reports of job code tampering with its sandbox.',
    () => m().delivery.sandboxFaults,
  );
  readCounter(
    registry,
    'tabgrid_excluded_workers_total',
    'Worker identities excluded after losing too many quorums.',
    () => m().delivery.excludedWorkers,
  );

  return {
    registry,
    async text() {
      if (!processMetrics) {
        collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
        processMetrics = true;
      }
      snapshot = undefined;
      const families = [await registry.metrics()];
      const now = m();
      for (const h of HISTOGRAMS) families.push(histogramText(h.name, h.help, h.read(now)));
      if (source.commitTimes) {
        families.push(
          histogramText(COMMIT_HISTOGRAM.name, COMMIT_HISTOGRAM.help, source.commitTimes),
        );
      }
      snapshot = undefined;
      return `${families.join('\n\n').trimEnd()}\n`;
    },
  };
}

/** Serves the registry at {@link METRICS_PATH}. */
export function metricsRoute(app: FastifyInstance, source: MetricsSource): Registry {
  const metrics = createMetrics(source);
  app.get(METRICS_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.text()),
  );
  return metrics.registry;
}

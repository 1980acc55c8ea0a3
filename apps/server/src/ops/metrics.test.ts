import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { NodeWorker } from '../testing/node-worker.js';
import { memoryLog, type MemoryLog } from '../testing/memory-log.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { until } from '../testing/until.js';
import { LatencyBuckets } from '../latency-buckets.js';
import { histogramText } from './metrics.js';

function family(families: ParsedFamily[], name: string): ParsedFamily {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no metric family ${name} in /metrics`);
  return found;
}
function value(families: ParsedFamily[], name: string, labels: Record<string, string> = {}) {
  const sample = family(families, name).metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  if (!sample?.value) throw new Error(`no sample of ${name} ${JSON.stringify(labels)}`);
  return Number(sample.value);
}

describe('/metrics', () => {
  let site: TestServer;
  let log: MemoryLog;
  beforeEach(async () => {
    log = memoryLog();
    site = await startTestServer({ dirPrefix: 'tabgrid-metrics-', loggerInstance: log.logger });
  });
  afterEach(() => site.close());

  async function scrape(): Promise<{ text: string; families: ParsedFamily[]; type: string }> {
    const res = await fetch(`${site.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    return {
      text,
      families: parsePrometheusTextFormat(text),
      type: res.headers.get('content-type') ?? '',
    };
  }

  it('parses with a Prometheus parser and counts workers, tasks by outcome, latencies and commits', async () => {
    const before = await scrape();
    expect(before.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(value(before.families, 'tabgrid_workers')).toBe(0);
    expect(family(before.families, 'tabgrid_task_settle_latency_seconds').type).toBe('HISTOGRAM');

    const worker = site.adopt(new NodeWorker(site.wsUrl, { credit: 50 }));
    await worker.opened;
    worker.hello();
    await until(() => site.server.grid.metrics().workers === 1);
    const job = await site.tg.createJob({
      program: 'function Run(d) { if (d % 5 === 0) throw new Error("five " + d); return d * 2 }',
    });
    const outcomes = [];
    for await (const out of job.run(Array.from({ length: 40 }, (_, i) => i))) outcomes.push(out);
    expect(outcomes).toHaveLength(40);

    const { families, text } = await scrape();
    expect(value(families, 'tabgrid_workers')).toBe(1);
    expect(value(families, 'tabgrid_worker_threads')).toBeGreaterThanOrEqual(1);
    expect(value(families, 'tabgrid_worker_connections_total')).toBe(1);
    expect(value(families, 'tabgrid_tasks_queued')).toBe(0);
    expect(value(families, 'tabgrid_tasks_in_flight')).toBe(0);
    expect(family(families, 'tabgrid_tasks_settled_total').type).toBe('COUNTER');
    expect(value(families, 'tabgrid_tasks_settled_total', { outcome: 'result' })).toBe(32);
    expect(value(families, 'tabgrid_tasks_settled_total', { outcome: 'program' })).toBe(8);
    expect(value(families, 'tabgrid_duplicate_outcomes_total')).toBe(0);
    // Every settled task ran on the worker and was submitted with a time: both histograms saw 40.
    for (const name of [
      'tabgrid_task_dispatch_latency_seconds',
      'tabgrid_task_settle_latency_seconds',
    ]) {
      const [h] = family(families, name).metrics;
      expect(Number(h!.count)).toBe(40);
      expect(Number(h!.buckets!['+Inf'])).toBe(40);
      expect(Number(h!.sum)).toBeGreaterThanOrEqual(0);
    }
    const [commits] = family(families, 'tabgrid_store_commit_seconds').metrics;
    expect(Number(commits!.count)).toBeGreaterThan(0);
    // prom-client's process metrics: the event-loop delay among them.
    expect(value(families, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    worker.close();
    await until(() => site.server.grid.metrics().workers === 0);
    expect(value((await scrape()).families, 'tabgrid_worker_disconnections_total')).toBe(1);
  }, 30_000);

  it('needs no token (like /healthz) and names no job', async () => {
    await site.tg.createJob({ name: 'secret-project', program: 'function Run(d) { return d }' });
    const { text, families } = await scrape();
    expect(text).not.toContain('secret-project');
    expect(value(families, 'tabgrid_jobs')).toBe(1);
    expect(value(families, 'tabgrid_jobs_runnable')).toBe(1);
  });
});

describe('histogramText', () => {
  it('writes cumulative buckets in seconds, +Inf, sum and count', () => {
    const buckets = new LatencyBuckets();
    for (const ms of [0.5, 3, 3, 700, 400_000]) buckets.observe(ms);
    const [h] = parsePrometheusTextFormat(`${histogramText('t_seconds', 'help', buckets)}\n`);
    expect(h!.type).toBe('HISTOGRAM');
    const { buckets: le, count, sum } = h!.metrics[0]!;
    expect(le!['0.001']).toBe('1');
    expect(le!['0.002']).toBe('1');
    expect(le!['0.005']).toBe('3');
    expect(le!['1']).toBe('4');
    expect(le!['300']).toBe('4');
    expect(le!['+Inf']).toBe('5');
    expect(count).toBe('5');
    expect(Number(sum)).toBeCloseTo(400.7065, 6);
  });
});

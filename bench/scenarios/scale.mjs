// 4. Scale: thousands of simulated workers (@tabgrid/fleet, the real worker protocol over real
// WebSockets) and a large job: sustained tasks/s, server RSS, event-loop delay p99.
import { Fleet } from '@tabgrid/fleet';
import { Tabgrid } from '@tabgrid/sdk';
import { fmt, report } from '../lib/report.mjs';
import { TOKEN, startServer } from '../lib/server.mjs';

export async function scale({ workers, tasks }) {
  const server = await startServer();
  const fleet = new Fleet({ url: server.wsUrl, workers, credit: 32 });
  const tg = new Tabgrid({ url: server.url, token: TOKEN });
  try {
    const connectStarted = performance.now();
    await fleet.start();
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const job = await tg.createJob({
      program: 'function Run(d) { return d * 2 }',
      name: 'bench-scale',
    });
    await server.health(true); // measure event-loop delay from here on
    function* inputs() {
      for (let i = 0; i < tasks; i++) yield i;
    }
    const started = performance.now();
    let received = 0;
    let errors = 0;
    for await (const out of job.run(inputs())) {
      received++;
      if (!out.ok || out.value !== out.index * 2) errors++;
    }
    const seconds = (performance.now() - started) / 1000;
    const health = await server.health();
    report('scale', [
      ['fleet', `${fmt(workers)} simulated workers (connected in ${connectSeconds.toFixed(1)} s)`],
      ['tasks', `${fmt(tasks)}, ${fmt(received)} received, ${fmt(errors)} errors`],
      ['tasks/s', `${fmt(tasks / seconds)} (${seconds.toFixed(1)} s)`],
      ['server peak RSS', `${fmt(server.peakRssMb())} MB`],
      [
        'event-loop delay',
        `p99 ${health.eventLoopDelayMs.p99.toFixed(1)} ms, max ${health.eventLoopDelayMs.max.toFixed(1)} ms`,
      ],
    ]);
    if (received !== tasks || errors > 0)
      throw new Error(`scale: ${received}/${tasks} received, ${errors} errors`);
    return { rate: tasks / seconds };
  } finally {
    await tg.close();
    await fleet.stop();
    await server.stop();
  }
}

// 5. Submission: tasks streamed up from a generator; client and server memory stay flat.
import { Tabgrid } from '@tabgrid/sdk';
import { fmt, report } from '../lib/report.mjs';
import { TOKEN, startServer } from '../lib/server.mjs';

export async function submission({ tasks }) {
  const server = await startServer();
  const tg = new Tabgrid({ url: server.url, token: TOKEN });
  let clientPeak = process.memoryUsage().rss;
  const sampler = setInterval(
    () => (clientPeak = Math.max(clientPeak, process.memoryUsage().rss)),
    50,
  );
  try {
    const job = await tg.createJob({
      program: 'function Run(d) { return d }',
      name: 'bench-submission',
    });
    function* inputs() {
      for (let i = 0; i < tasks; i++) yield { n: i, payload: 'x'.repeat(32) };
    }
    const started = performance.now();
    const { count } = await job.submit(inputs());
    const seconds = (performance.now() - started) / 1000;
    const status = await job.status();
    if (count !== tasks || status.total !== tasks)
      throw new Error(`stored ${status.total} of ${tasks}`);
    clearInterval(sampler);
    report('submission', [
      ['tasks', `${fmt(tasks)} from a generator (~50 bytes each), acknowledged durable`],
      ['tasks/s', `${fmt(tasks / seconds)} (${seconds.toFixed(2)} s)`],
      ['client peak RSS', `${fmt(clientPeak / 1024 / 1024)} MB (whole bench process)`],
      ['server peak RSS', `${fmt(server.peakRssMb())} MB`],
    ]);
    return { clientMb: clientPeak / 1024 / 1024, serverMb: server.peakRssMb() };
  } finally {
    clearInterval(sampler);
    await tg.close();
    await server.stop();
  }
}
